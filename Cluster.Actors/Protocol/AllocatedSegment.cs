namespace Shoal.Actors.Protocol;

/// <summary>A segment of a drive and its owner.</summary>
public sealed record AllocatedSegment(uint Segment, SegmentOwner Owner);
