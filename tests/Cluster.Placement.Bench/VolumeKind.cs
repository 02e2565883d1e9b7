namespace Shoal.Placement.Bench;

/// <summary>The layouts in the volume mix.</summary>
internal enum VolumeKind : byte
{
    /// <summary>mirror:2 — the default protected layout.</summary>
    Mirror2,

    /// <summary>mirror:3 — volumes that must survive two failures.</summary>
    Mirror3,

    /// <summary>stripe+mirror:2 (RAID-10) — large or throughput-bound volumes.</summary>
    StripeMirror2,
}
