namespace Shoal.DataPath.Wire;

/// <summary>Wire protocol v1 operations. Replies carry the request's op with <see cref="WireFlags.Reply"/> set.</summary>
public enum WireOp : byte
{
    Hello = 1,
    Challenge = 2,
    Prove = 3,
    Welcome = 4,

    Read = 10,
    Write = 11,
    Flush = 12,
    WriteZeroes = 13,
    Trim = 14,

    /// <summary>Control: set a segment's owner volume, leg, epoch and writer (durable before the reply).</summary>
    Fence = 20,

    /// <summary>Control: a segment's owner, epoch, writer and write-intent bitmap.</summary>
    SegmentInfo = 21,

    /// <summary>Control: clear write-intent bits given as a bitmap payload (epoch-checked).</summary>
    ClearIntent = 22,

    /// <summary>Control: target identity and drive list.</summary>
    Describe = 23,

    Ping = 30,
}
