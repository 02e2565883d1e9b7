using Shoal.Actors.Protocol;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// A target with one drive at a time. Its segments are its durable state and survive crashes; it keeps nothing else.
/// When its drive is lost every segment on it fails all I/O for good, and a blank drive takes its place. Fences and
/// checks follow <c>DriveStore</c> to the letter: a request of another volume or a corrupt segment is refused with
/// <see cref="WireStatus.Permission"/>, an older epoch with <see cref="WireStatus.StaleEpoch"/>, a newer one with
/// <see cref="WireStatus.EpochAhead"/>, and a write from anyone but the fenced writer with Permission; a fence never
/// lowers the epoch; the intent bit is set before the write lands; every write is durable when it is answered.
/// </summary>
internal sealed class SimTarget : SimProcess
{
    /// <summary>Most segments a target ever holds (its own legs, spares, and those of lost drives).</summary>
    public const int MaxSegments = 32;

    private readonly List<SimSegment> _segments = [];
    private int _drives;

    public SimTarget(SimWorld world, int id, string name)
        : base(world, id, name)
    {
        CurrentDrive = NewDriveId();
    }

    public IReadOnlyList<SimSegment> Segments => _segments;

    public DriveId CurrentDrive { get; private set; }

    /// <summary>A blank segment on the current drive that is not in <paramref name="inUse"/>: a free one if there is one, else a new one.</summary>
    public SimSegment FreeSegment(IReadOnlySet<SegmentRef> inUse)
    {
        SimSegment? free = _segments.FirstOrDefault(s => !s.Lost && s.Group < 0 && s.VolumeUid == 0 && !inUse.Contains(new SegmentRef(s.Drive, s.Index)));
        if (free != null)
        {
            return free;
        }
        if (_segments.Count >= MaxSegments)
        {
            throw Sim.Failure("limits", $"{Name} would hold more than {MaxSegments} segments");
        }
        var segment = new SimSegment(CurrentDrive, (uint)_segments.Count, World.Geometry.BlocksPerGroup);
        _segments.Add(segment);
        return segment;
    }

    /// <summary>The drive fails for good; a blank one is installed. Returns the lost drive.</summary>
    public DriveId LoseDrive()
    {
        DriveId lost = CurrentDrive;
        foreach (SimSegment segment in _segments)
        {
            segment.Lost |= segment.Drive == lost;
        }
        CurrentDrive = NewDriveId();
        Sim.Log($"{Name} DRIVE LOST {lost}; blank drive {CurrentDrive} installed");
        return lost;
    }

    private DriveId NewDriveId() => new(new Guid(Id, (short)++_drives, 0, [0, 0, 0, 0, 0, 0, 0, 0]));

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

    /// <summary>The segment a request names; a lost one answers I/O errors, as a failed drive does.</summary>
    private SimSegment? Segment(uint index) => index < (uint)_segments.Count ? _segments[(int)index] : null;

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
        if (seg.Lost || InjectIoError())
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
        if (seg.Lost || InjectIoError())
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
        if (seg.Lost || InjectIoError())
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
        return seg == null || seg.Lost
            ? new TargetReply(i.RequestId, seg == null ? WireStatus.NotFound : WireStatus.IoError, 0, null)
            : new TargetReply(i.RequestId, WireStatus.Ok, 0, new SegmentSnapshot(seg.VolumeUid, seg.Epoch, seg.Writer, seg.IntentMask));
    }

    private TargetReply Clear(ClearIntent c)
    {
        SimSegment? seg = Segment(c.Segment);
        if (seg == null || seg.Lost)
        {
            return new TargetReply(c.RequestId, seg == null ? WireStatus.NotFound : WireStatus.IoError, 0, null);
        }
        WireStatus status = CheckFence(seg, c.VolumeUid, c.Epoch, seg.Writer, write: false);
        if (status == WireStatus.Ok)
        {
            seg.IntentMask &= ~c.RegionMask;
        }
        return new TargetReply(c.RequestId, status, 0, null);
    }
}
