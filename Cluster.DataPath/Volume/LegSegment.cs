namespace Shoal.DataPath.Volume;

/// <summary>One leg of a segment group: a segment on a drive of a target, and its state.</summary>
public sealed record LegSegment(string Target, uint Drive, uint Segment, LegState State)
{
    public bool Active => State != LegState.Stale;

    /// <summary>
    /// For a rebuilding leg on a new segment (a full rebuild): everything from this segment offset on is copied,
    /// and everything below it already was (the control plane's checkpoint). Null for a delta resync, which
    /// copies only the regions the write-intent bitmaps name.
    /// </summary>
    public long? RebuildFromBytes { get; init; }
}
