namespace Shoal.DataPath.Target;

/// <summary>Counters the target exports through its control port (read with Interlocked).</summary>
public sealed class TargetCounters
{
    public long Reads;
    public long Writes;
    public long ReadBytes;
    public long WriteBytes;
    public long Flushes;
    public long Fences;
    public long Rejected;
    public long BadFrames;
    public long HandshakeFailures;
    public long Connections;
}
