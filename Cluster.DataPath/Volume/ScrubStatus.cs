namespace Shoal.DataPath.Volume;

/// <summary>Where a volume's scrub stands: the last (or current) run's counts. Blocks are 4 KiB, counted per leg read.</summary>
public readonly record struct ScrubStatus(
    ScrubState State,
    int Runs,
    long ScannedBlocks,
    long TotalBlocks,
    long BadBlocks,
    long RepairedBlocks,
    long UnrepairableBlocks,
    long StartedUnixMs,
    long FinishedUnixMs);
