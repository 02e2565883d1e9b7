using Shoal.Actors.Protocol;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

// What travels between simulated processes. Target requests mirror the data path's wire operations, one block each,
// with the same volume/epoch/writer stamps; every request carries a run-wide unique id that its reply echoes, so a
// late reply to an abandoned attempt (or to an earlier incarnation) never matches anything.

internal sealed record WriteBlock(long RequestId, uint Segment, ulong VolumeUid, ulong Epoch, ulong Writer, int Block, long Value, bool MarkIntent)
{
    public override string ToString() => $"write#{RequestId} s{Segment} b{Block}={Value} e{Epoch} w{Writer}{(MarkIntent ? "" : " no-intent")}";
}

internal sealed record ReadBlock(long RequestId, uint Segment, ulong VolumeUid, ulong Epoch, ulong Writer, int Block, ReadPurpose Purpose)
{
    public override string ToString() => $"read#{RequestId} s{Segment} b{Block} e{Epoch}{(Purpose == ReadPurpose.CopySource ? " copy" : "")}";
}

internal sealed record FenceSegment(long RequestId, uint Segment, ulong VolumeUid, uint LegIndex, ulong Epoch, ulong Writer)
{
    public override string ToString() => $"fence#{RequestId} s{Segment} e{Epoch} w{Writer}";
}

internal sealed record ReadSegmentInfo(long RequestId, uint Segment)
{
    public override string ToString() => $"info#{RequestId} s{Segment}";
}

internal sealed record ClearIntent(long RequestId, uint Segment, ulong VolumeUid, ulong Epoch, ulong RegionMask)
{
    public override string ToString() => $"clear#{RequestId} s{Segment} e{Epoch} mask{RegionMask:x}";
}

internal sealed record PingTarget(long RequestId)
{
    public override string ToString() => $"ping#{RequestId}";
}

/// <summary>A segment's durable metadata as a target reports it (the data path's SegmentInfo).</summary>
internal sealed record SegmentSnapshot(ulong VolumeUid, ulong Epoch, ulong Writer, ulong IntentMask);

internal sealed record TargetReply(long RequestId, WireStatus Status, long Value, SegmentSnapshot? Info)
{
    public override string ToString() => $"reply#{RequestId} {Status}{(Status == WireStatus.Ok && Info == null ? $" v{Value}" : "")}";
}

internal sealed record EntityRequest(long RequestId, IVolumeCommand Command)
{
    public override string ToString() => $"cmd#{RequestId} {SimText.Command(Command)}";
}

internal sealed record EntityReply(long RequestId, IVolumeReply Reply)
{
    public override string ToString() => $"answer#{RequestId} {SimText.Reply(Reply)}";
}
