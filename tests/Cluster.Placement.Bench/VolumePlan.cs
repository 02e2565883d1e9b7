namespace Shoal.Placement.Bench;

/// <summary>
/// The volumes to place, drawn once from the seed so that every strategy places the same sequence. Kept as compact
/// arrays (a million volumes): kind, group count and segments per leg.
/// <para>
/// A volume of S usable GiB: mirror:L takes ⌈S / max leg⌉ groups of L legs; stripe+mirror:2 of width W splits S over
/// W columns, each in ⌈(S/W) / max leg⌉ sets, so W × sets groups of 2 legs. Every leg of a volume takes the same
/// number of 64 MiB segments. A group here is a run of segments on one drive per leg — the unit the benchmark
/// places; the data path's one-segment groups would only be finer (see the report's notes).
/// </para>
/// </summary>
internal sealed class VolumePlan
{
    public const int SegmentMib = 64;

    private VolumePlan(int volumes)
    {
        Kinds = new VolumeKind[volumes];
        Groups = new int[volumes];
        SegmentsPerLeg = new int[volumes];
    }

    public VolumeKind[] Kinds { get; }

    public int[] Groups { get; }

    public int[] SegmentsPerLeg { get; }

    public long TotalGroups { get; private set; }

    /// <summary>Segments the whole plan takes, every leg counted.</summary>
    public long RawSegments { get; private set; }

    public int MaxGroups { get; private set; }

    public static int Legs(VolumeKind kind) => kind == VolumeKind.Mirror3 ? 3 : 2;

    public static VolumePlan Create(BenchOptions options)
    {
        var random = new Random(options.Seed);
        var plan = new VolumePlan(options.Volumes);
        long maxLegSegments = (long)options.MaxLegGib * 1024 / SegmentMib;
        double logMin = Math.Log(options.MinVolumeGib);
        double logMax = Math.Log(options.MaxVolumeGib);
        for (int v = 0; v < options.Volumes; v++)
        {
            int pick = random.Next(100);
            VolumeKind kind = pick < options.MixPercent[0] ? VolumeKind.Mirror2
                : pick < options.MixPercent[0] + options.MixPercent[1] ? VolumeKind.Mirror3
                : VolumeKind.StripeMirror2;
            double gib = Math.Exp(logMin + (random.NextDouble() * (logMax - logMin)));
            long segments = (long)Math.Ceiling(gib * 1024 / SegmentMib);
            int columns = kind == VolumeKind.StripeMirror2 ? options.StripeWidth : 1;
            long perColumn = (segments + columns - 1) / columns;
            long sets = (perColumn + maxLegSegments - 1) / maxLegSegments;
            int groups = checked((int)(columns * sets));
            int perLeg = checked((int)((perColumn + sets - 1) / sets));
            plan.Kinds[v] = kind;
            plan.Groups[v] = groups;
            plan.SegmentsPerLeg[v] = perLeg;
            plan.TotalGroups += groups;
            plan.RawSegments += (long)groups * Legs(kind) * perLeg;
            plan.MaxGroups = Math.Max(plan.MaxGroups, groups);
        }
        return plan;
    }
}
