using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// A target with one drive. Its segments are its durable state and survive crashes; it keeps nothing else. Fences and
/// checks follow <c>DriveStore</c> to the letter: a request of another volume or a corrupt segment is refused with
/// <see cref="WireStatus.Permission"/>, an older epoch with <see cref="WireStatus.StaleEpoch"/>, a newer one with
/// <see cref="WireStatus.EpochAhead"/>, and a write from anyone but the fenced writer with Permission; a fence never
/// lowers the epoch; the intent bit is set before the write lands; every write is durable when it is answered.
/// </summary>
internal sealed class SimTarget : SimProcess
{
    private readonly SimSegment[] _segments;

    public SimTarget(SimWorld world, int id, string name, SimSegment[] segments)
        : base(world, id, name)
    {
        _segments = segments;
    }

    public IReadOnlyList<SimSegment> Segments => _segments;

    public long WritesApplied { get; private set; }

    public long Rejected { get; private set; }

    public long IoErrorsInjected { get; private set; }

    public override void Receive(int from, object message)
    {
        TargetReply reply = message switch
        {
            WriteBlock w => Write(w),
            ReadBlock r => Read(r),
            FenceSegment f => Fence(f),
            ReadSegmentInfo i => Info(i),
            ClearIntent c => Clear(c),
            PingTarget p => new TargetReply(p.RequestId, WireStatus.Ok, 0, null),
            _ => throw Sim.Failure("protocol", $"{Name} got an unknown message {message}"),
        };
        if (reply.Status != WireStatus.Ok)
        {
            Rejected++;
        }
        Send(from, reply);
    }

    /// <summary>Fences a segment as the volume's creation did, before the run starts.</summary>
    public void FenceAtSetup(uint segment, ulong volumeUid, uint legIndex, ulong epoch, ulong writer)
    {
        TargetReply reply = Fence(new FenceSegment(0, segment, volumeUid, legIndex, epoch, writer));
        if (reply.Status != WireStatus.Ok)
        {
            throw Sim.Failure("setup", $"{Name} refused the setup fence: {reply.Status}");
        }
    }

    /// <summary>The drive fails this I/O (nothing is written): a draw against the plan's I/O error rate.</summary>
    private bool InjectIoError()
    {
        bool fail = Sim.Chance(World.Network.Plan.IoErrorRate);
        IoErrorsInjected += fail ? 1 : 0;
        return fail;
    }

    private SimSegment? Segment(uint index) => index < (uint)_segments.Length ? _segments[index] : null;

    private static WireStatus CheckFence(SimSegment seg, ulong volumeUid, ulong epoch, ulong writer, bool write)
    {
        if (seg.VolumeUid == 0 || seg.VolumeUid != volumeUid)
        {
            return WireStatus.Permission;
        }
        if (epoch < seg.Epoch)
        {
            return WireStatus.StaleEpoch;
        }
        if (epoch > seg.Epoch)
        {
            return WireStatus.EpochAhead;
        }
        return write && writer != seg.Writer ? WireStatus.Permission : WireStatus.Ok;
    }

    private TargetReply Write(WriteBlock w)
    {
        SimSegment? seg = Segment(w.Segment);
        if (seg == null || w.Block < 0 || w.Block >= seg.Blocks.Length)
        {
            return new TargetReply(w.RequestId, seg == null ? WireStatus.NotFound : WireStatus.Invalid, 0, null);
        }
        if (InjectIoError())
        {
            return new TargetReply(w.RequestId, WireStatus.IoError, 0, null);
        }
        WireStatus status = (World.Options.Bugs & SimBug.TargetIgnoresFences) != 0
            ? WireStatus.Ok
            : CheckFence(seg, w.VolumeUid, w.Epoch, w.Writer, write: true);
        if (status == WireStatus.Ok)
        {
            if (w.MarkIntent)
            {
                seg.IntentMask |= 1UL << World.Geometry.RegionOf(w.Block);
            }
            seg.Blocks[w.Block] = w.Value;
            WritesApplied++;
            World.Checker.OnTargetWrite(this, seg, w);
        }
        return new TargetReply(w.RequestId, status, 0, null);
    }

    private TargetReply Read(ReadBlock r)
    {
        SimSegment? seg = Segment(r.Segment);
        if (seg == null || r.Block < 0 || r.Block >= seg.Blocks.Length)
        {
            return new TargetReply(r.RequestId, seg == null ? WireStatus.NotFound : WireStatus.Invalid, 0, null);
        }
        if (InjectIoError())
        {
            return new TargetReply(r.RequestId, WireStatus.IoError, 0, null);
        }
        WireStatus status = CheckFence(seg, r.VolumeUid, r.Epoch, r.Writer, write: false);
        if (status != WireStatus.Ok)
        {
            return new TargetReply(r.RequestId, status, 0, null);
        }
        World.Checker.OnTargetRead(this, seg, r);
        return new TargetReply(r.RequestId, WireStatus.Ok, seg.Blocks[r.Block], null);
    }

    private TargetReply Fence(FenceSegment f)
    {
        SimSegment? seg = Segment(f.Segment);
        if (seg == null)
        {
            return new TargetReply(f.RequestId, WireStatus.NotFound, 0, null);
        }
        if (InjectIoError())
        {
            return new TargetReply(f.RequestId, WireStatus.IoError, 0, null);
        }
        bool owned = seg.VolumeUid != 0;
        if (owned && f.VolumeUid != 0 && seg.VolumeUid != f.VolumeUid)
        {
            return new TargetReply(f.RequestId, WireStatus.Permission, 0, null);
        }
        if (owned && seg.VolumeUid == f.VolumeUid && f.Epoch < seg.Epoch)
        {
            return new TargetReply(f.RequestId, WireStatus.StaleEpoch, 0, null);
        }
        ulong previousEpoch = seg.Epoch;
        if (!owned || seg.VolumeUid != f.VolumeUid)
        {
            seg.IntentMask = 0;
        }
        seg.VolumeUid = f.VolumeUid;
        seg.LegIndex = f.LegIndex;
        seg.Epoch = f.Epoch;
        seg.Writer = f.Writer;
        World.Checker.OnFence(this, seg, previousEpoch, f);
        return new TargetReply(f.RequestId, WireStatus.Ok, 0, null);
    }

    private TargetReply Info(ReadSegmentInfo i)
    {
        SimSegment? seg = Segment(i.Segment);
        return seg == null
            ? new TargetReply(i.RequestId, WireStatus.NotFound, 0, null)
            : new TargetReply(i.RequestId, WireStatus.Ok, 0, new SegmentSnapshot(seg.VolumeUid, seg.Epoch, seg.Writer, seg.IntentMask));
    }

    private TargetReply Clear(ClearIntent c)
    {
        SimSegment? seg = Segment(c.Segment);
        if (seg == null)
        {
            return new TargetReply(c.RequestId, WireStatus.NotFound, 0, null);
        }
        WireStatus status = CheckFence(seg, c.VolumeUid, c.Epoch, seg.Writer, write: false);
        if (status == WireStatus.Ok)
        {
            seg.IntentMask &= ~c.RegionMask;
        }
        return new TargetReply(c.RequestId, status, 0, null);
    }
}
