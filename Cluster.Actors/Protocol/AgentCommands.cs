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

/// <summary>A target agent's drives' I/O counters (for metrics).</summary>
public sealed record GetTargetStats : IShoalMessage;

public sealed record TargetStats(NodeId Node, System.Collections.Immutable.ImmutableArray<DriveIoStats> Drives) : IShoalMessage;

/// <summary>One drive's served I/O; latency buckets as in <see cref="LocalVolumeStats"/>. <paramref name="Checksums"/>: the drive keeps block checksums; <paramref name="ChecksumFailures"/>: reads it refused because a block failed its checksum.</summary>
public sealed record DriveIoStats(
    DriveId Drive,
    long Reads,
    long Writes,
    long ReadBytes,
    long WriteBytes,
    long Errors,
    System.Collections.Immutable.ImmutableArray<long> ReadLatencyBuckets,
    long ReadLatencySumMicros,
    System.Collections.Immutable.ImmutableArray<long> WriteLatencyBuckets,
    long WriteLatencySumMicros,
    bool Checksums = false,
    long ChecksumFailures = 0);

/// <summary>Open (formatting when new, creating a file of <paramref name="CreateBytes"/> when asked) and serve one more drive on this target node.</summary>
public sealed record AddLocalDrive(string Path, long CreateBytes) : IShoalMessage;

public sealed record LocalDriveAdded(NodeId Node, DriveId Drive, string Path) : IShoalMessage;

public sealed record LocalDriveRefused(NodeId Node, string Path, string Reason) : IShoalMessage;
