using System.Globalization;
using Shoal.Actors.Placement;

namespace Shoal.Placement.Bench;

/// <summary>The placement benchmark's command line; every default is the issue's full-size scenario.</summary>
internal sealed record BenchOptions
{
    public const string Usage =
        "Shoal.Placement.Bench — copyset against random placement on a simulated cluster\n\n" +
        "  --nodes N              nodes (default 100000)\n" +
        "  --drives-per-node N    drives per node (default 4)\n" +
        "  --rack-size N          nodes per rack (default 40)\n" +
        "  --racks-per-zone N     racks per zone (default 25: one power and cooling hall of ~1,000 servers)\n" +
        "  --segments-per-drive N 64 MiB segments per drive (default 114440: a 7.68 TB NVMe drive)\n" +
        "  --volumes N            volumes to place (default 1000000)\n" +
        "  --mix SPEC             percentages: mirror:2=40,mirror:3=30,stripe+mirror:2=30 (default)\n" +
        "  --stripe-width N       columns of a stripe+mirror volume (default 4)\n" +
        "  --volume-gib MIN-MAX   usable volume size, log-uniform (default 128-3072)\n" +
        "  --max-leg-gib N        largest leg of one group (default 256); larger volumes take more groups\n" +
        "  --spread LEVEL         drive|node|rack|zone: how far apart a group's legs must be (default rack)\n" +
        "  --grow-percent N       the last N% of racks join after (100-N)% of the volumes are placed (default 10)\n" +
        "  --seed N               seeds the volume mix and both strategies (default 1)\n" +
        "  --strategies a,b       subset of copyset,random (default both)\n" +
        "  --out-json PATH        write the figures as JSON\n" +
        "  --markdown PATH        replace the placement section of this report (e.g. docs/benchmarks.md)\n";

    public static readonly string[] AllStrategies = ["copyset", "random"];

    public int Nodes { get; init; } = 100_000;

    public int DrivesPerNode { get; init; } = 4;

    public int RackSize { get; init; } = 40;

    public int RacksPerZone { get; init; } = 25;

    public int SegmentsPerDrive { get; init; } = 114_440;

    public int Volumes { get; init; } = 1_000_000;

    /// <summary>Percent of volumes per kind, indexed by <see cref="VolumeKind"/>.</summary>
    public IReadOnlyList<int> MixPercent { get; init; } = [40, 30, 30];

    public int StripeWidth { get; init; } = 4;

    public int MinVolumeGib { get; init; } = 128;

    public int MaxVolumeGib { get; init; } = 3072;

    public int MaxLegGib { get; init; } = 256;

    public FailureDomainLevel Spread { get; init; } = FailureDomainLevel.Rack;

    public int GrowPercent { get; init; } = 10;

    public int Seed { get; init; } = 1;

    public IReadOnlyList<string> Strategies { get; init; } = AllStrategies;

    public string? OutJson { get; init; }

    public string? Markdown { get; init; }

    /// <summary>The options that shape the figures, as they would be typed (the report prints them).</summary>
    public string Effective() => string.Create(CultureInfo.InvariantCulture,
        $"--nodes {Nodes} --drives-per-node {DrivesPerNode} --rack-size {RackSize} --racks-per-zone {RacksPerZone} " +
        $"--segments-per-drive {SegmentsPerDrive} --volumes {Volumes} " +
        $"--mix mirror:2={MixPercent[0]},mirror:3={MixPercent[1]},stripe+mirror:2={MixPercent[2]} --stripe-width {StripeWidth} " +
        $"--volume-gib {MinVolumeGib}-{MaxVolumeGib} --max-leg-gib {MaxLegGib} --spread {PlacementLimits.Name(Spread)} --grow-percent {GrowPercent} " +
        $"--seed {Seed} --strategies {string.Join(',', Strategies)}");

    /// <summary>Returns null when help was asked for.</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args)
    {
        string[] known = ["nodes", "drives-per-node", "rack-size", "racks-per-zone", "segments-per-drive", "volumes", "mix", "stripe-width",
            "volume-gib", "max-leg-gib", "spread", "grow-percent", "seed", "strategies", "out-json", "markdown"];
        Dictionary<string, string>? values = BenchArgs.Parse(args, known);
        if (values == null)
        {
            return null;
        }

        (int minGib, int maxGib) = Range(values.GetValueOrDefault("volume-gib") ?? "128-3072");
        var options = new BenchOptions
        {
            Nodes = BenchArgs.Int(values, "nodes", 100_000, 3, LossProbability.MaxNodes),
            DrivesPerNode = BenchArgs.Int(values, "drives-per-node", 4, 1, 64),
            RackSize = BenchArgs.Int(values, "rack-size", 40, 1, 1_000),
            RacksPerZone = BenchArgs.Int(values, "racks-per-zone", 25, 1, 100_000),
            SegmentsPerDrive = BenchArgs.Int(values, "segments-per-drive", 114_440, 1, 1 << 30),
            Volumes = BenchArgs.Int(values, "volumes", 1_000_000, 1, 100_000_000),
            MixPercent = Mix(values.GetValueOrDefault("mix")),
            StripeWidth = BenchArgs.Int(values, "stripe-width", 4, 1, 64),
            MinVolumeGib = minGib,
            MaxVolumeGib = maxGib,
            MaxLegGib = BenchArgs.Int(values, "max-leg-gib", 256, 1, 1 << 20),
            Spread = Level(values.GetValueOrDefault("spread") ?? "rack"),
            GrowPercent = BenchArgs.Int(values, "grow-percent", 10, 0, 90),
            Seed = BenchArgs.Int(values, "seed", 1, int.MinValue, int.MaxValue),
            Strategies = Strategy(values.GetValueOrDefault("strategies")),
            OutJson = values.TryGetValue("out-json", out string? json) ? Path.GetFullPath(json) : null,
            Markdown = values.TryGetValue("markdown", out string? md) ? Path.GetFullPath(md) : null,
        };
        if ((long)options.Nodes * options.DrivesPerNode > int.MaxValue / 2)
        {
            throw new UsageException("--nodes × --drives-per-node is too large");
        }
        return options;
    }

    private static IReadOnlyList<int> Mix(string? spec)
    {
        if (spec is null)
        {
            return [40, 30, 30];
        }
        var percent = new int[3];
        foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string name = eq < 0 ? part : part[..eq];
            int kind = name switch
            {
                "mirror:2" => 0,
                "mirror:3" => 1,
                "stripe+mirror:2" => 2,
                _ => throw new UsageException($"--mix: unknown layout '{name}' (known: mirror:2, mirror:3, stripe+mirror:2)"),
            };
            if (eq < 0 || !int.TryParse(part[(eq + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out int p) || p < 0 || p > 100)
            {
                throw new UsageException($"--mix: '{part}' needs a percentage, as in {name}=40");
            }
            percent[kind] = p;
        }
        return percent.Sum() == 100 ? percent : throw new UsageException($"--mix percentages add up to {percent.Sum()}, not 100");
    }

    private static (int Min, int Max) Range(string text)
    {
        string[] parts = text.Split('-');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int min)
            && int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int max)
            && min >= 1 && max >= min && max <= 1 << 20)
        {
            return (min, max);
        }
        throw new UsageException($"--volume-gib must be MIN-MAX in GiB, as in 128-3072, not '{text}'");
    }

    private static FailureDomainLevel Level(string text) => text switch
    {
        "drive" => FailureDomainLevel.Drive,
        "node" => FailureDomainLevel.Node,
        "rack" => FailureDomainLevel.Rack,
        "zone" => FailureDomainLevel.Zone,
        _ => throw new UsageException($"--spread must be drive, node, rack or zone, not '{text}'"),
    };

    private static IReadOnlyList<string> Strategy(string? list)
    {
        if (list is null)
        {
            return AllStrategies;
        }
        string[] picked = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string? unknown = picked.FirstOrDefault(s => !AllStrategies.Contains(s));
        if (unknown != null || picked.Length == 0)
        {
            throw new UsageException($"--strategies: pick from {string.Join(",", AllStrategies)}");
        }
        return [.. AllStrategies.Where(picked.Contains)];
    }
}
