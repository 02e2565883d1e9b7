namespace Shoal.Actors.Protocol;

// Messages to a node's agents. Never persisted.

/// <summary>
/// Raise one leg segment's fence on its target (durable on the drive before the answer). <paramref name="Claim"/>
/// is set for a segment the drive entity has just allocated to the volume: the target takes it over whatever its
/// metadata still says (a leftover of an owner the drive entity already let go).
/// </summary>
public sealed record FenceSegment(DriveId Drive, uint TargetDrive, uint Segment, VolumeUid Uid, int Leg, ulong Epoch, WriterId Writer, bool Claim) : IShoalMessage;

/// <summary>The target's answer: <paramref name="Status"/> is the data path's wire status name ("Ok" when fenced).</summary>
public sealed record SegmentFenceResult(DriveId Drive, uint Segment, ulong Epoch, bool Fenced, string Status) : IShoalMessage;
