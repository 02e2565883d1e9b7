namespace Shoal.DataPath.Drives;

/// <summary>How a target opens (and if need be formats) one drive.</summary>
public sealed record DriveOpenOptions
{
    public const long DefaultSegmentBytes = 64L << 20;
    public const int DefaultRegionBytes = 1 << 20;

    public required Guid ClusterId { get; init; }

    /// <summary>Create the file with this size when it does not exist (sparse). 0: the file must exist.</summary>
    public long CreateBytes { get; init; }

    public long SegmentBytes { get; init; } = DefaultSegmentBytes;

    /// <summary>Granularity of the write-intent bitmap.</summary>
    public int RegionBytes { get; init; } = DefaultRegionBytes;

    /// <summary>Reformat a drive that holds another cluster's superblock or foreign data.</summary>
    public bool ForceFormat { get; init; }

    /// <summary>
    /// Format a new drive with a CRC32C per 4 KiB block (format 2). False formats the plain layout (format 1), as
    /// builds before checksums did. Has no effect on a drive that is already formatted: its superblock decides.
    /// </summary>
    public bool Checksums { get; init; } = true;

    /// <summary>Largest single I/O; sizes the bounce buffer used for unaligned I/O under O_DIRECT.</summary>
    public int MaxIoBytes { get; init; } = 1 << 20;
}
