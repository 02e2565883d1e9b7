using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The client: the volume engine's protocol, event by event. It attaches (a fresh writer id, forcing out whoever held
/// the volume), fans each write out to every active leg and acknowledges it only when every leg answered or was taken
/// out of the layout by the entity; reports failing legs and waits for the entity's answer; reads from one in-sync
/// leg; pushes a fence to a target that missed its epoch; brings stale legs back (ping, report returned, copy the
/// regions any intent bitmap names, report resynced); reconciles regions whose in-sync legs may disagree; clears idle
/// intent bits. Control calls go to the entity one at a time, as the engine's control thread makes them.
/// </summary>
internal sealed partial class SimClient : SimProcess
{
    public const long TargetTimeoutMs = 60;
    public const long EntityTimeoutMs = 600;
    public const int MaxControlAttempts = 6;
    public const int MaxControlQueue = 64;
    public const long ControlRetryMs = 50;
    public const long AttachRetryMs = 100;
    public const int MaxTargetCalls = 1024;
    public const long DetachPollMs = 5;

    private readonly VolumeName _volume;
    private readonly NodeId _node;
    private readonly Dictionary<long, Action<TargetReply?>> _targetCalls = [];
    private readonly Queue<ControlCall> _control = new();
    private ControlCall? _controlCall;
    private long _controlRequestId;
    private long _lastControlMs;
    private WriterId _writer;
    private VolumeView? _view;
    private bool _ready;
    private bool _detaching;
    private SimRegionTable[] _regions = [];

    public SimClient(SimWorld world, int id, string name, VolumeName volume)
        : base(world, id, name)
    {
        _volume = volume;
        _node = new NodeId(name);
    }

    public SimClientMode Mode { get; set; } = SimClientMode.Random;

    public WriterId Writer => _writer;

    public VolumeView? View => _view;

    /// <summary>Attached with a seeded region table: serves application I/O.</summary>
    public bool Ready => Up && _ready;

    /// <summary>Nothing in flight, queued or half done, and every region usable.</summary>
    public bool Idle => _ops.Count == 0 && _controlCall == null && _control.Count == 0 && !_maintaining
        && _regions.All(t => !t.Busy && t.UnreconciledMask == 0);

    public long Reboots { get; private set; }

    public long Detaches { get; private set; }

    public long Handovers { get; private set; }

    public long FencePushes { get; private set; }

    /// <summary>Starts the first incarnation.</summary>
    public void Start() => Begin();

    public override void Receive(int from, object message)
    {
        switch (message)
        {
            case TargetReply reply:
                if (_targetCalls.Remove(reply.RequestId, out Action<TargetReply?>? done))
                {
                    done(reply);
                }
                return;
            case EntityReply answer:
                OnEntityReply(answer);
                return;
            default:
                throw Sim.Failure("protocol", $"{Name} got an unknown message {message}");
        }
    }

    protected override void OnCrash()
    {
        foreach (AppOp op in _ops.Values)
        {
            op.Finished = true;
        }
        _ops.Clear();
        _targetCalls.Clear();
        _control.Clear();
        _controlCall = null;
        _controlRequestId = 0;
        _view = null;
        _ready = false;
        _maintaining = false;
        _detaching = false;
        _reread = -1;
        _regions = [];
    }

    protected override void OnRestart() => Begin();

    /// <summary>A new session: a fresh writer id, an empty region table, attach, then the application and maintenance timers.</summary>
    private void Begin()
    {
        _writer = new WriterId(World.NextWriterId());
        _regions = new SimRegionTable[World.Geometry.GroupCount];
        for (int g = 0; g < _regions.Length; g++)
        {
            _regions[g] = new SimRegionTable(World.Geometry.RegionsPerGroup);
        }
        Sim.Log($"{Name} session as writer w{_writer.Value}");
        Attach();
        After(Sim.Between(1, 4), AppTick);
        After(Sim.Between(1, ReprobeIntervalMs), Maintain);
    }

    /// <summary>This session is over (the volume has another writer): start again as a new session.</summary>
    private void Reboot(string why)
    {
        Reboots++;
        Sim.Log($"{Name} reboots its session: {why}");
        Crash();
        Restart();
    }

    private void Attach()
    {
        Control(() => new AttachVolume(_volume, _node, _writer, AttachMode.ReadWrite, Force: true), reply =>
        {
            if (reply is VolumeStateReply && _view != null)
            {
                SeedRegions(() =>
                {
                    _ready = true;
                    Sim.Log($"{Name} attached: {SimText.View(_view)}");
                    World.OnClientAttached();
                });
            }
            else
            {
                After(AttachRetryMs, Attach);
            }
        });
    }

    /// <summary>
    /// After an attach every region some active leg's intent bitmap names may differ between the legs (the last
    /// session may have died mid-write): mark them written and unreconciled. A leg that cannot say makes all unknown.
    /// </summary>
    private void SeedRegions(Action done)
    {
        int pending = World.Geometry.GroupCount;
        for (int g = 0; g < World.Geometry.GroupCount; g++)
        {
            int group = g;
            GatherIntent(group, wholeIfUnreadable: _ => true, mask =>
            {
                ulong regions = mask ?? ulong.MaxValue;
                for (int r = 0; r < _regions[group].Count; r++)
                {
                    if ((regions & (1UL << r)) != 0)
                    {
                        _regions[group].MarkDirty(r);
                        _regions[group].MarkUnreconciled(r);
                    }
                }
                if (--pending == 0)
                {
                    done();
                }
            });
        }
    }

    /// <summary>Installs a layout the entity answered with. False when this session is over (rebooted).</summary>
    private bool Install(VolumeView view)
    {
        if (view.Writer != _writer)
        {
            Reboot($"the volume's writer is now w{view.Writer.Value}");
            return false;
        }
        if (_view != null && view.Epoch < _view.Epoch)
        {
            throw Sim.Failure("epoch", $"{Name}: the entity answered epoch {view.Epoch} after {_view.Epoch}");
        }
        if (_view == null || SimText.View(view) != SimText.View(_view))
        {
            Sim.Log($"{Name} layout {SimText.View(view)}");
        }
        _view = view;
        return true;
    }

    /// <summary>An orderly detach: no new I/O, wait for what is in flight, detach, start a new session.</summary>
    public void PlannedDetach()
    {
        if (!_ready || _detaching)
        {
            return;
        }
        _detaching = true;
        Detaches++;
        Sim.Log($"{Name} detaching (planned)");
        DrainThenDetach();
    }

    /// <summary>Split brain: this session lives on as the zombie (same writer id, epoch and legs) while the client attaches anew.</summary>
    public void Handover()
    {
        if (!_ready || _view == null)
        {
            return;
        }
        Handovers++;
        World.Zombie.Rearm(_view);
        Reboot("handover: the old session lives on as the zombie");
    }

    private void DrainThenDetach()
    {
        if (_ops.Count > 0 || _maintaining)
        {
            After(DetachPollMs, DrainThenDetach);
            return;
        }
        // The answer names no writer (or the call gives up): either way this session ends here.
        Control(() => new DetachVolume(_volume, _writer), _ => Reboot("detached"));
    }

    private LegInfo Leg(int group, int leg) => _view!.Groups[group].Legs[leg];

    private LegState StateOf(int group, int leg) => _view!.Groups[group].Legs[leg].State;

    /// <summary>One request to a target; <paramref name="done"/> gets the reply, or null after <see cref="TargetTimeoutMs"/>.</summary>
    private void CallTarget(LegInfo leg, Func<long, object> request, Action<TargetReply?> done)
    {
        if (_targetCalls.Count >= MaxTargetCalls)
        {
            throw Sim.Failure("limits", $"{Name} has {MaxTargetCalls} target calls outstanding");
        }
        long id = World.NextRequestId();
        _targetCalls[id] = done;
        Send(World.ProcessOf(leg.Target), request(id));
        After(TargetTimeoutMs, () =>
        {
            if (_targetCalls.Remove(id, out Action<TargetReply?>? pending))
            {
                pending(null);
            }
        });
    }

    /// <summary>
    /// Queues a call to the entity. <paramref name="build"/> runs when the call's turn comes and may return null when
    /// there is nothing left to ask; <paramref name="done"/> gets the answer (a layout answer is installed first), or
    /// null when there was nothing to ask or no answer came after <see cref="MaxControlAttempts"/> tries.
    /// </summary>
    private void Control(Func<IVolumeCommand?> build, Action<IVolumeReply?> done)
    {
        if (_control.Count >= MaxControlQueue)
        {
            Sim.Log($"{Name} control queue full");
            done(null);
            return;
        }
        _control.Enqueue(new ControlCall(build, done));
        PumpControl();
    }

    private void PumpControl()
    {
        while (_controlCall == null && _control.TryDequeue(out ControlCall? call))
        {
            IVolumeCommand? command = call.Build();
            if (command == null)
            {
                call.Done(null);
                continue;
            }
            call.Command = command;
            _controlCall = call;
            SendControl(call);
        }
    }

    private void SendControl(ControlCall call)
    {
        call.Attempts++;
        long id = World.NextRequestId();
        _controlRequestId = id;
        _lastControlMs = Sim.NowMs;
        Send(World.Entity.Id, new EntityRequest(id, call.Command!));
        After(EntityTimeoutMs, () =>
        {
            if (_controlRequestId == id)
            {
                RetryControl(call);
            }
        });
    }

    private void RetryControl(ControlCall call)
    {
        _controlRequestId = 0;
        if (call.Attempts >= MaxControlAttempts)
        {
            Sim.Log($"{Name} gave up on {SimText.Command(call.Command!)} after {call.Attempts} attempts");
            CompleteControl(call, null);
            return;
        }
        After(ControlRetryMs, () =>
        {
            if (_controlCall == call)
            {
                SendControl(call);
            }
        });
    }

    private void OnEntityReply(EntityReply answer)
    {
        if (answer.RequestId != _controlRequestId || _controlCall == null)
        {
            return;
        }
        ControlCall call = _controlCall;
        switch (answer.Reply)
        {
            case VolumeCommandRefused { Code: VolumeRefusal.Busy }:
                RetryControl(call);
                return;
            case VolumeCommandRefused { Code: VolumeRefusal.NotWriter }:
                Reboot("the entity says this session is not the writer");
                return;
            case VolumeStateReply state:
                _controlRequestId = 0;
                if (!Install(state.View))
                {
                    return;
                }
                break;
            default:
                _controlRequestId = 0;
                break;
        }
        CompleteControl(call, answer.Reply);
    }

    private void CompleteControl(ControlCall call, IVolumeReply? reply)
    {
        _controlCall = null;
        call.Done(reply);
        PumpControl();
    }

    /// <summary>Asks for the current layout, unless one newer than <paramref name="seenEpoch"/> came in meanwhile.</summary>
    private void Refresh(ulong seenEpoch, Action done) =>
        Control(() => _view!.Epoch > seenEpoch ? null : new GetVolume(_volume), _ => done());

    /// <summary>Reports a failing leg unless it is already out of the layout, then continues whatever the answer.</summary>
    private void ReportLegFailed(int group, int leg, string reason, Action done)
    {
        Control(() => StateOf(group, leg) == LegState.Stale ? null : new ReportLegFailed(_volume, _writer, group, leg, reason, LegAddress.Of(Leg(group, leg))), _ => done());
    }

    /// <summary>Fences a leg at our epoch ourselves: its target missed the entity's fence (it was away).</summary>
    private void PushFence(int group, int leg, Action<bool> done)
    {
        FencePushes++;
        LegInfo info = Leg(group, leg);
        ulong epoch = _view!.Epoch;
        ulong uid = _view.Uid.Value;
        CallTarget(info, id => new FenceSegment(id, info.Segment.Segment, uid, (uint)leg, epoch, _writer.Value), reply => done(reply?.Status == WireStatus.Ok));
    }

    private sealed class ControlCall(Func<IVolumeCommand?> build, Action<IVolumeReply?> done)
    {
        public Func<IVolumeCommand?> Build { get; } = build;

        public Action<IVolumeReply?> Done { get; } = done;

        public IVolumeCommand? Command { get; set; }

        public int Attempts { get; set; }
    }
}
