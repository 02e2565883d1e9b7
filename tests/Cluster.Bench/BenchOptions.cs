using System.Globalization;

namespace Shoal.Bench;

/// <summary>The harness's command line. Relative paths resolve against <see cref="RepoDir"/> so that the defaults land in the repository wherever the harness is started from.</summary>
internal sealed record BenchOptions
{
    public const string Usage =
        "Shoal.Bench — fio against shoal, shoal-mirror2, nbdkit and qemu-nbd\n\n" +
        "  --runtime-s N        measured seconds per case (default 10)\n" +
        "  --ramp-s N           warm-up seconds per case, not measured (default 2)\n" +
        "  --systems a,b        subset of shoal,shoal-mirror2,nbdkit,qemu-nbd (default all)\n" +
        "  --cases x,y          subset of T1Q1-randread,T1Q1-randwrite,T1Q32-randread,T1Q32-randwrite (default all)\n" +
        "  --repo DIR           repository root (default: current directory)\n" +
        "  --shoal-dll PATH     default REPO/Cluster.Host/bin/Release/net10.0/shoal.dll\n" +
        "  --out-json PATH      default REPO/bench/results/latest.json\n" +
        "  --out-md PATH        default REPO/docs/benchmarks.md\n" +
        "  --poll-spin-us N     passed to every shoal process (default: shoal's own)\n" +
        "  --port-base N        first TCP port; systems use N..N+49 (default 27000)\n";

    public int RuntimeSeconds { get; init; } = 10;

    public int RampSeconds { get; init; } = 2;

    public IReadOnlyList<string> Systems { get; init; } = SystemNames.All;

    public IReadOnlyList<BenchCase> Cases { get; init; } = BenchCase.All;

    public required string RepoDir { get; init; }

    public required string ShoalDll { get; init; }

    public required string OutJson { get; init; }

    public required string OutMarkdown { get; init; }

    public int? PollSpinMicros { get; init; }

    public int PortBase { get; init; } = 27000;

    /// <summary>Returns null when help was asked for.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args)
    {
        string[] known = ["runtime-s", "ramp-s", "systems", "cases", "repo", "shoal-dll", "out-json", "out-md", "poll-spin-us", "port-base"];
        Dictionary<string, string>? values = BenchArgs.Parse(args, known);
        if (values == null)
        {
            return null;
        }

        string repo = Path.GetFullPath(values.GetValueOrDefault("repo") ?? Directory.GetCurrentDirectory());
        string InRepo(string key, string fallback) => Path.GetFullPath(values.GetValueOrDefault(key) ?? fallback, repo);

        IReadOnlyList<string> systems = SystemNames.All;
        if (values.TryGetValue("systems", out string? systemList))
        {
            string[] picked = Split(systemList, "--systems");
            string? unknown = picked.FirstOrDefault(s => !SystemNames.All.Contains(s));
            if (unknown != null)
            {
                throw new UsageException($"unknown system '{unknown}' (known: {string.Join(",", SystemNames.All)})");
            }
            // Keep the canonical order whatever order was typed, so runs stay comparable.
            systems = [.. SystemNames.All.Where(picked.Contains)];
        }

        IReadOnlyList<BenchCase> cases = BenchCase.All;
        if (values.TryGetValue("cases", out string? caseList))
        {
            string[] picked = Split(caseList, "--cases");
            string? unknown = picked.FirstOrDefault(c => !BenchCase.All.Any(k => k.Name == c));
            if (unknown != null)
            {
                throw new UsageException($"unknown case '{unknown}' (known: {string.Join(",", BenchCase.All.Select(c => c.Name))})");
            }
            cases = [.. BenchCase.All.Where(c => picked.Contains(c.Name))];
        }

        return new BenchOptions
        {
            RuntimeSeconds = BenchArgs.Int(values, "runtime-s", 10, 1, 3600),
            RampSeconds = BenchArgs.Int(values, "ramp-s", 2, 0, 600),
            Systems = systems,
            Cases = cases,
            RepoDir = repo,
            ShoalDll = InRepo("shoal-dll", Path.Combine("Cluster.Host", "bin", "Release", "net10.0", "shoal.dll")),
            OutJson = InRepo("out-json", Path.Combine("bench", "results", "latest.json")),
            OutMarkdown = InRepo("out-md", Path.Combine("docs", "benchmarks.md")),
            PollSpinMicros = values.ContainsKey("poll-spin-us") ? BenchArgs.Int(values, "poll-spin-us", 0, 0, 10_000) : null,
            PortBase = BenchArgs.Int(values, "port-base", 27000, 1024, 65000),
        };
    }

    private static string[] Split(string list, string option)
    {
        string[] parts = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length > 0 ? parts : throw new UsageException($"{option} needs at least one name");
    }
}
