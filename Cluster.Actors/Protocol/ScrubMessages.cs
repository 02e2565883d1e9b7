namespace Shoal.Actors.Protocol;

// Messages to and from a node's client agent about checksums at rest. Never persisted.

/// <summary>Report where the attached volume's scrub stands; with <paramref name="Start"/>, start one first (unless one is running).</summary>
public sealed record ScrubLocal(VolumeName Volume, bool Start) : IShoalMessage;

/// <summary>The attached volume's scrub; <paramref name="Started"/> when this request started it.</summary>
public sealed record LocalScrub(VolumeName Volume, NodeId Node, bool Started, VolumeIntegrity Integrity) : IShoalMessage;

/// <summary>
/// A volume engine's checksum findings: its totals since attach, and its last (or current) scrub. Blocks are 4 KiB;
/// a scrub counts every leg's blocks it read. <paramref name="ScrubState"/> is never, queued, running, done or stopped.
/// </summary>
public sealed record VolumeIntegrity(
    long CorruptReadsServed,
    long BlocksRepaired,
    long UnrepairableBlocks,
    string ScrubState,
    int ScrubRuns,
    long ScrubScannedBlocks,
    long ScrubTotalBlocks,
    long ScrubBadBlocks,
    long ScrubRepairedBlocks,
    long ScrubUnrepairableBlocks,
    long ScrubStartedUnixMs,
    long ScrubFinishedUnixMs);
