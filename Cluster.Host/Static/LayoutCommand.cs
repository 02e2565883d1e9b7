using System.Collections.Immutable;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Volume;
using Shoal.Host.Cli;
using Shoal.Management.Cli;

namespace Shoal.Host.Static;

/// <summary><c>shoal layout</c>: write a static layout file, placing legs round-robin over the named targets.</summary>
internal static class LayoutCommand
{
    public const string Usage =
        "shoal layout --name NAME --kind concat|stripe|mirror|stripe+mirror --size SIZE --target NAME=HOST:PORT ... --out FILE\n" +
        "             [--legs 2|3] [--stripe-width N] [--stripe-unit SIZE] [--segment-size SIZE] [--first-segment N]\n" +
        "             [--volume-id N] [--writer-id N]";

    public static int Run(IReadOnlyList<string> argv)
    {
        CliArgs args = CliArgs.Parse(argv,
            new HashSet<string> { "name", "kind", "size", "target", "out", "legs", "stripe-width", "stripe-unit", "segment-size", "first-segment", "volume-id", "writer-id" },
            new HashSet<string>());
        var targets = new List<(string Name, string Endpoint)>();
        foreach (string t in args.All("target"))
        {
            int eq = t.IndexOf('=');
            if (eq <= 0 || eq == t.Length - 1)
            {
                throw new CliException($"--target '{t}' is not NAME=HOST:PORT");
            }
            targets.Add((t[..eq], t[(eq + 1)..]));
        }
        LayoutKind kind = ParseKind(args.Required("kind"));
        int legs = kind is LayoutKind.Mirror or LayoutKind.StripeMirror ? args.Int("legs", 2, 2, 3) : 1;
        int width = kind is LayoutKind.Stripe or LayoutKind.StripeMirror ? args.Int("stripe-width", Math.Max(2, targets.Count / legs), 2, 64) : 1;
        VolumeLayout layout = Build(
            args.Required("name"), kind, args.Size("size", 0), targets, legs, width,
            (int)args.Size("stripe-unit", VolumeLayout.DefaultStripeUnitBytes), args.Size("segment-size", DriveOpenOptions.DefaultSegmentBytes),
            (uint)args.Int("first-segment", 0, 0, int.MaxValue), args.ULong("volume-id", 1), args.ULong("writer-id", 1));
        string path = args.Required("out");
        layout.Save(path);
        Log.Announce($"wrote {path}: {layout.Kind} {layout.SizeBytes} bytes, {layout.Groups.Length} groups x {layout.LegCount} legs");
        return 0;
    }

    public static LayoutKind ParseKind(string text) => text.ToLowerInvariant() switch
    {
        "concat" => LayoutKind.Concat,
        "stripe" => LayoutKind.Stripe,
        "mirror" => LayoutKind.Mirror,
        "stripe+mirror" or "stripe-mirror" or "raid10" => LayoutKind.StripeMirror,
        _ => throw new CliException($"unknown layout kind '{text}' (concat, stripe, mirror, stripe+mirror)"),
    };

    public static VolumeLayout Build(string name, LayoutKind kind, long sizeBytes, IReadOnlyList<(string Name, string Endpoint)> targets,
        int legs, int width, int stripeUnitBytes, long segmentBytes, uint firstSegment, ulong volumeId, ulong writerId)
    {
        if (targets.Count < legs)
        {
            throw new CliException($"{kind} with {legs} legs needs at least {legs} targets, {targets.Count} given");
        }
        if (segmentBytes <= 0 || sizeBytes <= 0)
        {
            throw new CliException("--size and --segment-size must be positive");
        }
        long setBytes = width * segmentBytes;
        int groupCount = (int)((sizeBytes + setBytes - 1) / setBytes) * width;
        var nextSegment = targets.ToDictionary(t => t.Name, _ => firstSegment);
        var groups = ImmutableArray.CreateBuilder<SegmentGroup>(groupCount);
        int turn = 0;
        for (int g = 0; g < groupCount; g++)
        {
            var legList = ImmutableArray.CreateBuilder<LegSegment>(legs);
            for (int l = 0; l < legs; l++)
            {
                string target = targets[(turn + l) % targets.Count].Name;
                legList.Add(new LegSegment(target, 0, nextSegment[target]++, LegState.InSync));
            }
            turn += legs;
            groups.Add(new SegmentGroup(legList.MoveToImmutable()));
        }
        var layout = new VolumeLayout
        {
            Name = name,
            VolumeId = volumeId,
            SizeBytes = sizeBytes,
            Kind = kind,
            StripeWidth = width,
            StripeUnitBytes = stripeUnitBytes,
            SegmentBytes = segmentBytes,
            Epoch = 1,
            WriterId = writerId,
            Targets = targets.ToImmutableDictionary(t => t.Name, t => t.Endpoint),
            Groups = groups.MoveToImmutable(),
        };
        IReadOnlyList<string> errors = layout.Validate();
        if (errors.Count > 0)
        {
            throw new CliException("invalid layout: " + string.Join("; ", errors));
        }
        return layout;
    }
}
