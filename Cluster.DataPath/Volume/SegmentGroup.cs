using System.Collections.Immutable;

namespace Shoal.DataPath.Volume;

/// <summary>A range of the volume held by one segment per leg (the legs are mirrors of each other).</summary>
public sealed record SegmentGroup(ImmutableArray<LegSegment> Legs)
{
    public int InSyncCount => Legs.Count(l => l.State == LegState.InSync);
}
