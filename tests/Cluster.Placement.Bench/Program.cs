using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Shoal.Placement.Bench;

/// <summary>Entry point: exit 0 with the figures printed (and written when asked), 2 on bad usage.</summary>
internal static class Program
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };
    private static readonly Stopwatch s_clock = Stopwatch.StartNew();

    public static int Main(string[] args)
    {
        BenchOptions? options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"Shoal.Placement.Bench: {e.Message}\n\n{BenchOptions.Usage}");
            return 2;
        }
        if (options is null)
        {
            Console.Out.Write(BenchOptions.Usage);
            return 0;
        }

        DateTimeOffset started = DateTimeOffset.UtcNow;
        MachineInfo machine = MachineInfo.Collect();
        Log($"options: {options.Effective()}");
        var cluster = new BenchCluster(options);
        VolumePlan plan = VolumePlan.Create(options);
        Log(string.Create(CultureInfo.InvariantCulture,
            $"plan: {plan.TotalGroups:N0} groups, {plan.RawSegments:N0} segments = {(double)plan.RawSegments / ((long)cluster.Drives * options.SegmentsPerDrive):P1} of raw capacity"));

        var results = new List<StrategyResult>();
        foreach (string strategy in options.Strategies)
        {
            StrategyRun.WarmUp(strategy, options);
            GC.Collect();
            Log($"{strategy}: warmed up");
            StrategyResult result = StrategyRun.Run(strategy, cluster, plan, Log);
            results.Add(result);
            Log(Summary(result));
            GC.Collect();
        }

        string loadAverageEnd = HostFacts.LoadAverage();
        if (options.OutJson is { } json)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(json)!);
            File.WriteAllText(json, JsonSerializer.Serialize(new { options = options.Effective(), machine, started, results }, s_json) + "\n");
            Log($"wrote {json}");
        }
        if (options.Markdown is { } markdown)
        {
            string existing = File.Exists(markdown) ? File.ReadAllText(markdown) : "";
            string section = MarkdownSection.Render(options, FigureArgs(args), cluster, plan, results, machine, loadAverageEnd, started, MarkdownSection.ExtractNotes(existing));
            Directory.CreateDirectory(Path.GetDirectoryName(markdown)!);
            File.WriteAllText(markdown, MarkdownSection.Splice(existing, section));
            Log($"wrote the placement section of {markdown}");
        }
        return 0;
    }

    /// <summary>The arguments that shape the figures, as given (where the output goes does not).</summary>
    private static string FigureArgs(string[] args)
    {
        var kept = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "--out-json" or "--markdown")
            {
                i++;
            }
            else if (!args[i].StartsWith("--out-json=", StringComparison.Ordinal) && !args[i].StartsWith("--markdown=", StringComparison.Ordinal))
            {
                kept.Add(args[i]);
            }
        }
        return string.Join(' ', kept);
    }

    private static string Summary(StrategyResult r) => string.Create(CultureInfo.InvariantCulture,
        $"{r.Strategy}: mean {r.MeanUs:0.0} µs, p99 {r.P99Us:0.0} µs, max {r.MaxUs:N0} µs; failed {r.FailedPlacements}; peers max {r.MaxPeers} mean {r.MeanPeers:0.0}; " +
        $"imbalance {r.FillImbalance:0.000} (mean fill {r.MeanFill:P1}); node pairs {r.DistinctNodePairs:N0}, triples {r.DistinctNodeTriples:N0}; P(loss|3) {r.LossProbability:0.000E+0}");

    private static void Log(string message) => Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{s_clock.Elapsed.TotalSeconds,7:0.0}s] {message}"));
}
