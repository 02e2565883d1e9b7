using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

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

    /// <summary>Requests that found a block failing its stored checksum (each answered <see cref="WireStatus.Corrupt"/>, never with the data).</summary>
    public long ChecksumFailures;

    public readonly LatencyHistogram ReadLatency = new();
    public readonly LatencyHistogram WriteLatency = new();

    /// <summary>Counts one request the drive served (started at <paramref name="startTimestamp"/>): an error, or a read or write of its bytes.</summary>
    internal void Served(bool write, WireStatus status, long startTimestamp, uint lengthBytes)
    {
        if (status != WireStatus.Ok)
        {
            Interlocked.Increment(ref Errors);
        }
        else if (write)
        {
            WriteLatency.Record(startTimestamp);
            Interlocked.Increment(ref Writes);
            Interlocked.Add(ref WriteBytes, lengthBytes);
        }
        else
        {
            ReadLatency.Record(startTimestamp);
            Interlocked.Increment(ref Reads);
            Interlocked.Add(ref ReadBytes, lengthBytes);
        }
    }
}
