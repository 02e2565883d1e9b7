using Shoal.DataPath.Volume;

namespace Shoal.DataPath.Drives;

/// <summary>One drive's I/O as its target served it (read with Interlocked; reported by metrics). Latency is the drive's service time.</summary>
public sealed class DriveCounters
{
    public long Reads;
    public long Writes;
    public long ReadBytes;
    public long WriteBytes;

    /// <summary>Requests the drive refused or failed (stale epoch, I/O error, ...).</summary>
    public long Errors;

    public readonly LatencyHistogram ReadLatency = new();
    public readonly LatencyHistogram WriteLatency = new();
}
