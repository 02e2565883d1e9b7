namespace Shoal.DataPath.Volume;

/// <summary>One leg of a segment group: a segment on a drive of a target, and its state.</summary>
public sealed record LegSegment(string Target, uint Drive, uint Segment, LegState State)
{
    public bool Active => State != LegState.Stale;
}
