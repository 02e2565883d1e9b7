namespace Shoal.Bench;

/// <summary>
/// One row of <c>bench/results/latest.json</c> (one case on one system), serialized in snake_case.
/// The first seven properties are the contract; the rest help explain a figure.
/// </summary>
internal sealed record CaseResult
{
    public required string Case { get; init; }

    public required string System { get; init; }

    public required double Iops { get; init; }

    public required double ClatMeanUs { get; init; }

    public required double ClatP99Us { get; init; }

    /// <summary>CPU time of every server process of the system over the measured window, per completed I/O.</summary>
    public required double ServerCpuUsPerIo { get; init; }

    /// <summary>Gen0 collections summed over the system's processes during the window; null where the server is not .NET.</summary>
    public required long? ServerGen0 { get; init; }

    /// <summary>Submission plus completion latency: with the nbd engine, clat leaves out the time fio spends submitting.</summary>
    public required double LatMeanUs { get; init; }

    public required double LatP99Us { get; init; }

    public required long TotalIos { get; init; }

    public required int IoDepth { get; init; }

    public required int RuntimeS { get; init; }

    public required int RampS { get; init; }

    /// <summary>fio's own CPU (user + system, % of one core): the load generator shares the machine's cores.</summary>
    public required double FioCpuPercent { get; init; }

    /// <summary>Bytes the shoal processes allocated during the window (the runtime's coarse count).</summary>
    public long? ServerAllocatedBytes { get; init; }

    /// <summary>Reads plus writes the shoal client counted during the window: cross-checks that its window matches fio's.</summary>
    public long? ServerCountedIos { get; init; }

    /// <summary>Times the system had to be restarted (a server killed from outside) before this case completed.</summary>
    public int Restarts { get; init; }
}
