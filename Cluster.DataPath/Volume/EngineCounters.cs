namespace Shoal.DataPath.Volume;

/// <summary>Volume engine counters (read with Interlocked; reported through the control port and metrics).</summary>
public sealed class EngineCounters
{
    public long Reads;
    public long Writes;
    public long Flushes;
    public long ReadBytes;
    public long WriteBytes;
    public long Errors;
    public long LegFailures;
    public long ResyncBytes;
    public long ResyncRegions;
    public long IntentClears;

    /// <summary>Regions an earlier session left marked, made identical on every leg before their intent was cleared.</summary>
    public long ReconciledRegions;

    /// <summary>Reads a leg answered <c>Corrupt</c> (a block failed its checksum there).</summary>
    public long CorruptReplies;

    /// <summary>Client reads a leg answered <c>Corrupt</c> that another in-sync leg served.</summary>
    public long CorruptReadsServed;

    /// <summary>4 KiB blocks rewritten on a leg from a good copy (or, torn by a dead session on every leg, rewritten whole).</summary>
    public long BlocksRepaired;

    /// <summary>4 KiB blocks that failed their checksum on every in-sync leg outside a torn region: data lost, reads fail. Each counted once (up to 4096 remembered).</summary>
    public long UnrepairableBlocks;

    /// <summary>Latency of reads and of writes (writes, trims and zeroes) from submit to completion.</summary>
    public readonly LatencyHistogram ReadLatency = new();
    public readonly LatencyHistogram WriteLatency = new();

    internal void Count(IoRequest io)
    {
        if (io.Errno != 0)
        {
            Interlocked.Increment(ref Errors);
        }
        switch (io.Kind)
        {
            case IoKind.Read:
                ReadLatency.Record(io.SubmittedAt);
                Interlocked.Increment(ref Reads);
                Interlocked.Add(ref ReadBytes, io.LengthBytes);
                break;
            case IoKind.Flush:
                Interlocked.Increment(ref Flushes);
                break;
            default:
                WriteLatency.Record(io.SubmittedAt);
                Interlocked.Increment(ref Writes);
                Interlocked.Add(ref WriteBytes, io.LengthBytes);
                break;
        }
    }
}
