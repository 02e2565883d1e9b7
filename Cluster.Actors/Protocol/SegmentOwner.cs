namespace Shoal.Actors.Protocol;

/// <summary>Which volume incarnation, group and leg a segment is allocated to.</summary>
public sealed record SegmentOwner(VolumeName Volume, VolumeUid Uid, int Group, int Leg);
