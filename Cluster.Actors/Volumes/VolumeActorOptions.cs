namespace Shoal.Actors.Volumes;

/// <summary>The volume entity's timeouts and cluster-wide segment geometry.</summary>
public sealed record VolumeActorOptions
{
    /// <summary>Segment size every drive of the cluster is formatted with (DESIGN.md §3: 64 MiB).</summary>
    public long SegmentBytes { get; init; } = 64L << 20;

    /// <summary>Write-intent region size on the drives.</summary>
    public int RegionBytes { get; init; } = 1 << 20;

    /// <summary>
    /// How long one fence may take on its target (it waits for writes admitted under the old epoch to drain, which
    /// takes milliseconds on a healthy target). A leg not fenced in time is marked stale, and every leg on a crashed
    /// node costs this much I/O stall once, so it is short.
    /// </summary>
    public TimeSpan FenceTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a question to a drive entity or the drive directory may take.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Retry interval for segment releases that did not get through (their drive entity was unreachable).</summary>
    public TimeSpan ReleaseRetry { get; init; } = TimeSpan.FromSeconds(5);
}
