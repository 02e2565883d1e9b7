using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Shoal.Actors.Drives;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Volumes;

/// <summary>
/// The sharded volume entity: a thin persistent actor around <see cref="VolumeState"/>. It recovers, decides,
/// persists, applies and replies; the impure steps — placement, segment allocation on drive entities, fences on the
/// targets, segment releases — run as asynchronous workflows whose results come back as messages. While a workflow
/// runs, other commands wait in the stash, so the entity decides one thing at a time.
/// </summary>
/// <remarks>
/// Ordering that makes fencing safe: a new epoch is persisted first, then pushed to every active leg's target, and
/// only then is the command answered. A leg that cannot be fenced is marked stale (another epoch, another round),
/// unless it is its group's last in-sync leg: that one stays in sync and its I/O fails until it can be fenced.
/// </remarks>
public sealed partial class VolumeActor : ReceivePersistentActor, IWithTimers
{
    /// <summary>Fence rounds per command: each round can only make more legs stale, so legs + 1 always suffice.</summary>
    private const int MaxFenceRounds = 4;

    private readonly VolumeName _volume;
    private readonly IActorRef _drives;
    private readonly IActorRef _directory;
    private readonly VolumeActorOptions _options;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IScheduler _scheduler = Context.System.Scheduler;
    private VolumeState _state;
    private bool _releaseInFlight;

    public VolumeActor(string entityId, IActorRef drives, IActorRef directory, VolumeActorOptions options)
    {
        _volume = new VolumeName(entityId);
        _drives = drives;
        _directory = directory;
        _options = options;
        _state = VolumeState.Empty(_volume);
        Recover<IVolumeEvent>(e => _state = _state.Apply(e));
        Idle();
    }

    public override string PersistenceId => "volume-" + _volume;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The scheduler's clock (virtual in tests); safe off the actor's thread, unlike <c>Context</c>.</summary>
    private DateTimeOffset Now => _scheduler.Now;

    protected override void OnReplaySuccess()
    {
        if (!_state.Releasing.IsEmpty)
        {
            StartRelease();
        }
        // The previous incarnation may have persisted an epoch and died before fencing it: push it again before
        // anything is answered, so no layout leaves this entity at an epoch its targets do not enforce.
        if (_state.Status == VolumeStatus.Ready && _state.Epoch > 0)
        {
            StartFence(new VolumeStateReply(_state.View()), ActorRefs.Nobody, round: 0, claimed: []);
        }
    }

    private void Idle()
    {
        Command<CreateVolume>(c =>
        {
            if (_state.CheckCreate(c) is { } answer)
            {
                Sender.Tell(answer);
                return;
            }
            StartPlacement(c, Sender);
        });
        Command<GrowVolume>(c =>
        {
            if (_state.CheckGrow(c) is { } answer)
            {
                Sender.Tell(answer);
                return;
            }
            StartPlacement(c, Sender);
        });
        Command<DriveLost>(c =>
        {
            if (_state.Status != VolumeStatus.Ready || !_state.LegsOn(c.Drive).Any())
            {
                Sender.Tell(new VolumeStateReply(_state.View()));
                return;
            }
            StartPlacement(c, Sender);
        });
        Command<EvacuateDrive>(c =>
        {
            if (_state.Status != VolumeStatus.Ready || !_state.LegsOn(c.Drive).Any(Movable))
            {
                Sender.Tell(new VolumeStateReply(_state.View()));
                return;
            }
            StartPlacement(c, Sender);
        });
        Command<IVolumeCommand>(c => Decide(c, Sender));
        CommonCommands();
    }

    /// <summary>A leg an evacuation may move now: not its group's only in-sync copy (that one waits for another to catch up).</summary>
    private bool Movable((int Group, int Leg) at)
    {
        GroupInfo group = _state.Groups[at.Group];
        return !(group.Legs[at.Leg].State == LegState.InSync && group.InSyncCount == 1);
    }

    private void Busy()
    {
        Command<FenceRoundDone>(OnFenceRoundDone);
        Command<RefenceDone>(OnRefenceDone);
        Command<PlacementDone>(OnPlacementDone);
        CommonCommands();
        CommandAny(_ => Stash.Stash());
    }

    private void CommonCommands()
    {
        Command<ReleaseDone>(OnReleaseDone);
        Command<ReleaseTick>(_ => StartRelease());
    }

    private void Finish(IVolumeReply reply, IActorRef replyTo)
    {
        Become(Idle);
        Stash.UnstashAll();
        replyTo.Tell(reply is VolumeStateReply ? new VolumeStateReply(_state.View()) : reply);
    }

    private void Decide(IVolumeCommand command, IActorRef replyTo)
    {
        Decision<IVolumeEvent, IVolumeReply> decision = _state.Decide(command, Now);
        if (decision.Events.IsEmpty)
        {
            if (command is ReportLegFailed failed && decision.Reply is VolumeCommandRefused { Code: VolumeRefusal.LastInSyncLeg })
            {
                // The writer cannot reach its group's last in-sync leg. If the leg's target answers us now (it
                // came back, or only missed the last fence), fencing it again lets the writer retry.
                StartRefence(failed.Group, failed.Leg, decision.Reply, replyTo);
                return;
            }
            replyTo.Tell(decision.Reply);
            return;
        }
        PersistThen(decision.Events, epochBefore => AfterChange(epochBefore, decision.Reply, replyTo, round: 0, claimed: []));
    }

    /// <summary>Persists and applies <paramref name="events"/>, then runs <paramref name="after"/> with the epoch from before.</summary>
    private void PersistThen(ImmutableArray<IVolumeEvent> events, Action<ulong> after)
    {
        ulong epochBefore = _state.Epoch;
        int left = events.Length;
        PersistAll(events, e =>
        {
            _state = _state.Apply(e);
            if (e is LegMarkedStale or LegReplaced or VolumeAttached or VolumeDetached or LegInSync or VolumeDeleted)
            {
                _log.Info("volume {0}: {1} (epoch {2})", _volume, e, _state.Epoch);
            }
            if (--left == 0)
            {
                after(epochBefore);
            }
        });
    }

    /// <param name="claimed">segments just allocated to the volume: their first fence takes them over</param>
    private void AfterChange(ulong epochBefore, IVolumeReply reply, IActorRef replyTo, int round, ImmutableHashSet<SegmentRef> claimed)
    {
        if (!_state.Releasing.IsEmpty)
        {
            StartRelease();
        }
        if (_state.Epoch != epochBefore && _state.Status is VolumeStatus.Ready or VolumeStatus.Deleting)
        {
            StartFence(reply, replyTo, round, claimed);
            return;
        }
        Finish(reply, replyTo);
    }

    private void StartFence(IVolumeReply reply, IActorRef replyTo, int round, ImmutableHashSet<SegmentRef> claimed)
    {
        Become(Busy);
        bool deleting = _state.Status == VolumeStatus.Deleting;
        ImmutableArray<LegToFence> legs = [.. LegsToFence(deleting)];
        ulong epoch = _state.Epoch;
        FenceAsync(legs, epoch, deleting ? default : _state.Writer, claimed)
            .PipeTo(Self, success: results => new FenceRoundDone(epoch, results, reply, replyTo, round, claimed));
    }

    private IEnumerable<LegToFence> LegsToFence(bool all)
    {
        for (int g = 0; g < _state.Groups.Length; g++)
        {
            for (int l = 0; l < _state.Groups[g].Legs.Length; l++)
            {
                LegInfo leg = _state.Groups[g].Legs[l];
                if (all || leg.State != LegState.Stale)
                {
                    yield return new LegToFence(g, l, leg);
                }
            }
        }
    }

    private void OnFenceRoundDone(FenceRoundDone done)
    {
        ImmutableArray<LegFenceOutcome> failures = [.. done.Results.Where(r => !r.Fenced)];
        if (failures.IsEmpty || _state.Status != VolumeStatus.Ready)
        {
            Finish(done.Reply, done.ReplyTo);
            return;
        }
        if (done.Round + 1 >= MaxFenceRounds)
        {
            FinishUnfenced(done, failures);
            return;
        }
        VolumeState next = _state;
        var events = ImmutableArray.CreateBuilder<IVolumeEvent>();
        foreach (LegFenceOutcome f in failures)
        {
            Decision<IVolumeEvent, IVolumeReply> d = next.Decide(new LegUnfenceable(_volume, done.Epoch, f.Group, f.Leg, "fence failed: " + f.Status), Now);
            foreach (IVolumeEvent e in d.Events)
            {
                next = next.Apply(e);
                events.Add(e);
            }
        }
        if (events.Count == 0)
        {
            FinishUnfenced(done, failures);
            return;
        }
        PersistThen(events.ToImmutable(), epochBefore => AfterChange(epochBefore, done.Reply, done.ReplyTo, done.Round + 1, done.Claimed));
    }

    /// <summary>
    /// Legs that stay unfenced are in-sync legs that are their group's last: the new epoch is persisted but not on
    /// their targets, where an earlier writer could still write. The layout is not handed out; the caller is told to
    /// retry (a writer's next attach or report raises the epoch and fences again).
    /// </summary>
    private void FinishUnfenced(FenceRoundDone done, ImmutableArray<LegFenceOutcome> failures)
    {
        string which = string.Join("; ", failures.Select(f => $"group {f.Group} leg {f.Leg}: {f.Status}"));
        _log.Warning("volume {0}: not fenced at epoch {1}: {2}", _volume, done.Epoch, which);
        Finish(done.Reply is VolumeStateReply
            ? new VolumeCommandRefused(_volume, VolumeRefusal.Busy, $"epoch {done.Epoch} could not be fenced on every in-sync leg ({which}); retry when its target answers")
            : done.Reply, done.ReplyTo);
    }

    private void StartRefence(int group, int leg, IVolumeReply refusal, IActorRef replyTo)
    {
        Become(Busy);
        FenceAsync([new LegToFence(group, leg, _state.Groups[group].Legs[leg])], _state.Epoch, _state.Writer, [])
            .PipeTo(Self, success: results => new RefenceDone(results, refusal, replyTo));
    }

    private void OnRefenceDone(RefenceDone done) =>
        Finish(done.Results.All(r => r.Fenced) ? new VolumeStateReply(_state.View()) : done.Refusal, done.ReplyTo);

    /// <summary>Raises the fence of every given leg on its target; never throws (a failure is an outcome).</summary>
    private async Task<ImmutableArray<LegFenceOutcome>> FenceAsync(ImmutableArray<LegToFence> legs, ulong epoch, WriterId writer, ImmutableHashSet<SegmentRef> claimed)
    {
        ActorSystem system = Context.System;
        VolumeUid uid = _state.Uid;
        ImmutableDictionary<DriveId, DriveView> views;
        try
        {
            views = (await _directory.Ask<ResolvedDrives>(new ResolveDrives([.. legs.Select(l => l.Info.Segment.Drive).Distinct()]), _options.AskTimeout).ConfigureAwait(false)).Views;
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return [.. legs.Select(l => new LegFenceOutcome(l.Group, l.Leg, false, "drive directory did not answer"))];
        }
        LegFenceOutcome[] outcomes = await Task.WhenAll(legs.Select(async leg =>
        {
            if (!views.TryGetValue(leg.Info.Segment.Drive, out DriveView? view) || view.Inventory == null)
            {
                return new LegFenceOutcome(leg.Group, leg.Leg, false, "drive unknown to the directory");
            }
            var fence = new FenceSegment(leg.Info.Segment.Drive, leg.Info.TargetDrive, leg.Info.Segment.Segment, uid, leg.Leg, epoch, writer, claimed.Contains(leg.Info.Segment));
            try
            {
                SegmentFenceResult result = await system.ActorSelection(view.Inventory.AgentPath).Ask<SegmentFenceResult>(fence, _options.FenceTimeout).ConfigureAwait(false);
                return new LegFenceOutcome(leg.Group, leg.Leg, result.Fenced && result.Epoch == epoch, result.Status);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return new LegFenceOutcome(leg.Group, leg.Leg, false, "target agent did not answer");
            }
        })).ConfigureAwait(false);
        return [.. outcomes];
    }

    private sealed record LegToFence(int Group, int Leg, LegInfo Info);

    private sealed record LegFenceOutcome(int Group, int Leg, bool Fenced, string Status);

    private sealed record FenceRoundDone(ulong Epoch, ImmutableArray<LegFenceOutcome> Results, IVolumeReply Reply, IActorRef ReplyTo, int Round, ImmutableHashSet<SegmentRef> Claimed);

    private sealed record RefenceDone(ImmutableArray<LegFenceOutcome> Results, IVolumeReply Refusal, IActorRef ReplyTo);
}
