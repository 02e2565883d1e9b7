using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>Application I/O: one operation per block at a time, at most <see cref="MaxAppInflight"/> at once.</summary>
internal sealed partial class SimClient
{
    public const int MaxAppInflight = 6;
    public const int MaxSubAttempts = 6;
    public const double WriteShare = 0.55;

    /// <summary>Chance that a completed read is followed by another read of the same block (as a verifying reader does).</summary>
    public const double RereadChance = 0.4;

    private readonly Dictionary<int, AppOp> _ops = [];
    private int _sweepCursor;
    private int _reread = -1;

    private enum Sub
    {
        /// <summary>Not sent: the leg was stale when the write started.</summary>
        NotSent,
        Pending,
        Acked,

        /// <summary>The leg is out of the layout (stale, durably at a newer epoch): the write stands without it.</summary>
        Skipped,

        /// <summary>Waiting for the entity's answer to the leg's failure.</summary>
        AwaitingControl,
        Failed,
    }

    public long WritesAcked { get; private set; }

    public long WritesFailed { get; private set; }

    public long ReadsFailed { get; private set; }

    public long LegFailuresSeen { get; private set; }

    /// <summary>The sweep has started every block (and, once idle, finished them).</summary>
    public bool SweepStarted => _sweepCursor >= World.Geometry.BlockCount;

    public void StartSweep(SimClientMode mode)
    {
        Mode = mode;
        _sweepCursor = 0;
    }

    private void AppTick()
    {
        After(Sim.Between(1, 4), AppTick);
        if (!_ready || _detaching || _ops.Count >= MaxAppInflight)
        {
            return;
        }
        switch (Mode)
        {
            case SimClientMode.Random:
                {
                    if (_reread >= 0 && Free(_reread))
                    {
                        Start(_reread, write: false);
                        _reread = -1;
                        return;
                    }
                    int block = World.Geometry.PickBlock(Sim);
                    if (Free(block))
                    {
                        Start(block, write: Sim.Chance(WriteShare));
                    }
                    return;
                }
            case SimClientMode.SweepWrite or SimClientMode.SweepRead:
                if (_sweepCursor < World.Geometry.BlockCount && Free(_sweepCursor))
                {
                    Start(_sweepCursor++, write: Mode == SimClientMode.SweepWrite);
                }
                return;
            default:
                return;
        }
    }

    private bool Free(int block) =>
        !_ops.ContainsKey(block) && _regions[World.Geometry.GroupOf(block)].Usable(RegionOfBlock(block));

    private int RegionOfBlock(int block) => World.Geometry.RegionOf(World.Geometry.OffsetOf(block));

    private void Start(int block, bool write)
    {
        int g = World.Geometry.GroupOf(block);
        var op = new AppOp(block, g, write, World.Geometry.LegCount);
        _ops[block] = op;
        _regions[g].Enter(RegionOfBlock(block), write, Sim.NowMs);
        if (!write)
        {
            ReadFrom(op, failedLeg: -1);
            return;
        }
        op.Value = World.Checker.IssueWrite(block);
        Sim.Log($"{Name} write b{block}={op.Value} at {SimText.View(_view!)}");
        for (int l = 0; l < op.Subs.Length; l++)
        {
            if (StateOf(g, l) == LegState.Stale)
            {
                op.Subs[l] = Sub.NotSent;
            }
            else
            {
                SendWrite(op, l);
            }
        }
        FinishWriteIfDone(op);
    }

    private void SendWrite(AppOp op, int leg)
    {
        LegInfo info = Leg(op.Group, leg);
        ulong epoch = _view!.Epoch;
        ulong uid = _view.Uid.Value;
        int offset = World.Geometry.OffsetOf(op.Block);
        op.Subs[leg] = Sub.Pending;
        CallTarget(info, id => new WriteBlock(id, info.Segment.Segment, uid, epoch, _writer.Value, offset, op.Value, MarkIntent: true),
            reply => OnSubReply(op, leg, epoch, reply));
    }

    private void ReadFrom(AppOp op, int failedLeg)
    {
        if (failedLeg >= 0)
        {
            op.Tried |= 1 << failedLeg;
        }
        int leg = PickReadLeg(op.Group, op.Tried);
        if (leg < 0)
        {
            FinishRead(op, null);
            return;
        }
        LegInfo info = Leg(op.Group, leg);
        ulong epoch = _view!.Epoch;
        ulong uid = _view.Uid.Value;
        int offset = World.Geometry.OffsetOf(op.Block);
        CallTarget(info, id => new ReadBlock(id, info.Segment.Segment, uid, epoch, _writer.Value, offset, ReadPurpose.Application),
            reply => OnSubReply(op, leg, epoch, reply));
    }

    /// <summary>An in-sync leg not tried yet, picked at random; -1 when none is left.</summary>
    private int PickReadLeg(int group, int triedMask)
    {
        bool anyActive = (World.Options.Bugs & SimBug.ClientReadsRebuildingLegs) != 0;
        Span<int> candidates = stackalloc int[World.Geometry.LegCount];
        int n = 0;
        for (int l = 0; l < candidates.Length; l++)
        {
            LegState state = StateOf(group, l);
            if ((triedMask & (1 << l)) == 0 && (state == LegState.InSync || (anyActive && state == LegState.Rebuilding)))
            {
                candidates[n++] = l;
            }
        }
        return n == 0 ? -1 : candidates[Sim.Random.Next(n)];
    }

    private void OnSubReply(AppOp op, int leg, ulong sentEpoch, TargetReply? reply)
    {
        if (op.Finished)
        {
            return;
        }
        WireStatus status = reply?.Status ?? WireStatus.IoError;
        switch (status)
        {
            case WireStatus.Ok when op.Write:
                op.Subs[leg] = Sub.Acked;
                FinishWriteIfDone(op);
                return;
            case WireStatus.Ok:
                FinishRead(op, reply!.Value);
                return;
            case WireStatus.StaleEpoch or WireStatus.EpochAhead or WireStatus.Permission:
                EpochMismatch(op, leg, sentEpoch, status);
                return;
            case WireStatus.Invalid or WireStatus.NotFound or WireStatus.Unsupported:
                throw Sim.Failure("protocol", $"{Name}: a target answered {status} to an I/O of b{op.Block} on leg {leg}");
            default:
                LegFailure(op, leg, reply == null ? "timeout" : status.ToString());
                return;
        }
    }

    /// <summary>The target's fence is not our epoch: resend at a newer layout, push our fence, or ask the entity.</summary>
    private void EpochMismatch(AppOp op, int leg, ulong sentEpoch, WireStatus status)
    {
        if (++op.Attempts[leg] > MaxSubAttempts)
        {
            GiveUpSub(op, leg);
            return;
        }
        if (sentEpoch < _view!.Epoch)
        {
            Resend(op, leg);
        }
        else if (status == WireStatus.EpochAhead)
        {
            PushFence(op.Group, leg, fenced =>
            {
                if (op.Finished)
                {
                    return;
                }
                if (fenced)
                {
                    Resend(op, leg);
                }
                else
                {
                    LegFailure(op, leg, "fence push failed");
                }
            });
        }
        else
        {
            // The target is ahead of us: the entity moved on (or gave the volume to someone else) without telling us.
            Refresh(sentEpoch, () =>
            {
                if (op.Finished)
                {
                    return;
                }
                if (_view!.Epoch > sentEpoch)
                {
                    Resend(op, leg);
                }
                else
                {
                    GiveUpSub(op, leg);
                }
            });
        }
    }

    private void Resend(AppOp op, int leg)
    {
        LegState state = StateOf(op.Group, leg);
        if (op.Write)
        {
            if (state == LegState.Stale)
            {
                op.Subs[leg] = Sub.Skipped;
                FinishWriteIfDone(op);
            }
            else
            {
                SendWrite(op, leg);
            }
        }
        else if (state == LegState.InSync)
        {
            op.Tried &= ~(1 << leg);
            ReadFrom(op, failedLeg: -1);
        }
        else
        {
            ReadFrom(op, leg);
        }
    }

    private void GiveUpSub(AppOp op, int leg)
    {
        if (op.Write)
        {
            op.Subs[leg] = Sub.Failed;
            FinishWriteIfDone(op);
        }
        else
        {
            ReadFrom(op, leg);
        }
    }

    /// <summary>The leg failed the I/O: the entity takes it out of the layout (or refuses), and only then does the I/O go on.</summary>
    private void LegFailure(AppOp op, int leg, string reason)
    {
        LegFailuresSeen++;
        if (!op.Write)
        {
            ReportLegFailed(op.Group, leg, reason, () =>
            {
                if (!op.Finished)
                {
                    ReadFrom(op, leg);
                }
            });
            return;
        }
        if ((World.Options.Bugs & SimBug.ClientAcksBeforeLegFailedAnswer) != 0)
        {
            op.Subs[leg] = Sub.Skipped;
            ReportLegFailed(op.Group, leg, reason, () => { });
            FinishWriteIfDone(op);
            return;
        }
        op.Subs[leg] = Sub.AwaitingControl;
        ReportLegFailed(op.Group, leg, reason, () =>
        {
            if (op.Finished)
            {
                return;
            }
            // Stale in the answered layout: durably out, the survivors fenced; anything else: the write fails.
            op.Subs[leg] = StateOf(op.Group, leg) == LegState.Stale ? Sub.Skipped : Sub.Failed;
            FinishWriteIfDone(op);
        });
    }

    private void FinishWriteIfDone(AppOp op)
    {
        if (op.Finished || op.Subs.Any(s => s is Sub.Pending or Sub.AwaitingControl))
        {
            return;
        }
        op.Finished = true;
        _ops.Remove(op.Block);
        int region = RegionOfBlock(op.Block);
        _regions[op.Group].Exit(region);
        if (op.Subs.Any(s => s == Sub.Failed))
        {
            WritesFailed++;
            // Some in-sync legs may hold it and others not: the region is reconciled before anyone uses it again.
            _regions[op.Group].MarkUnreconciled(region);
            Sim.Log($"{Name} write b{op.Block}={op.Value} FAILED [{string.Join(",", op.Subs)}]");
            World.Checker.OnWriteFailed(op.Block, op.Value);
            return;
        }
        WritesAcked++;
        Sim.Log($"{Name} ACK b{op.Block}={op.Value} [{string.Join(",", op.Subs)}] at {SimText.View(_view!)}");
        World.Checker.OnWriteAcked(op.Block, op.Value);
    }

    private void FinishRead(AppOp op, long? value)
    {
        op.Finished = true;
        _ops.Remove(op.Block);
        _regions[op.Group].Exit(RegionOfBlock(op.Block));
        if (value == null)
        {
            ReadsFailed++;
            Sim.Log($"{Name} read b{op.Block} FAILED");
            return;
        }
        _reread = Sim.Chance(RereadChance) ? op.Block : -1;
        Sim.Log($"{Name} read b{op.Block} -> {value}");
        World.Checker.OnRead(op.Block, value.Value);
    }

    private sealed class AppOp(int block, int group, bool write, int legCount)
    {
        public int Block { get; } = block;

        public int Group { get; } = group;

        public bool Write { get; } = write;

        public long Value { get; set; }

        public Sub[] Subs { get; } = new Sub[legCount];

        public int[] Attempts { get; } = new int[legCount];

        /// <summary>Legs a read has tried and given up on.</summary>
        public int Tried { get; set; }

        public bool Finished { get; set; }
    }
}
