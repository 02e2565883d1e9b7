namespace Shoal.DataPath.Volume;

/// <summary>How a volume's segments are combined (DESIGN.md §3).</summary>
public enum LayoutKind
{
    /// <summary>Segments one after another; one leg.</summary>
    Concat,

    /// <summary>RAID-0 over stripe-width segments; one leg.</summary>
    Stripe,

    /// <summary>RAID-1: 2 or 3 legs, one segment each per group.</summary>
    Mirror,

    /// <summary>RAID-10: striped over stripe-width mirrored groups.</summary>
    StripeMirror,
}
