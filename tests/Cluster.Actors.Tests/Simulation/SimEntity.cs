using System.Collections.Immutable;
using Shoal.Actors.Protocol;
using Shoal.Actors.Volumes;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The volume entity as its persistent actor will run it around the real <see cref="VolumeState"/>: one command at a
/// time (the rest wait in a bounded mailbox); <c>Decide</c>; events appended to the journal (after a write delay; a
/// crash before the append loses them and the command) and then applied; the active legs fenced at the resulting epoch
/// before the reply leaves. A leg that cannot be fenced goes back to the state as <see cref="LegUnfenceable"/>; while
/// the state refuses that for a group's last in-sync leg, the fence is retried, and when it stays out of reach the
/// command is answered <see cref="VolumeRefusal.Busy"/> (never with a layout whose in-sync legs are not fenced).
/// A restarted entity replays its journal through <see cref="VolumeState.Apply"/> and fences before it answers again,
/// since a command that repeats an already journaled change decides no events yet may find the legs unfenced.
/// </summary>
internal sealed class SimEntity : SimProcess
{
    public const int MaxMailbox = 32;
    public const int FenceAttempts = 3;
    public const long FenceTimeoutMs = 40;

    /// <summary>Fence rounds per command: one per leg lost in a round, plus retries for a group's last in-sync leg.</summary>
    public const int MaxFenceRounds = 6;

    public const long FenceRetryMs = 25;
    public const long MaxPersistMs = 4;

    private readonly VolumeName _volume;
    private readonly List<IVolumeEvent> _journal;
    private readonly Queue<Work> _mailbox = new();
    private VolumeState _state;
    private Work? _current;
    private Round? _round;
    private ulong _fencedEpoch;
    private bool _pumping;

    public SimEntity(SimWorld world, int id, string name, VolumeName volume, List<IVolumeEvent> journal)
        : base(world, id, name)
    {
        _volume = volume;
        _journal = journal;
        _state = Replay(volume, journal);
    }

    /// <summary>Idle: no command in hand and none waiting.</summary>
    public bool Idle => _current == null && _mailbox.Count == 0;

    public long Commands { get; private set; }

    public long EventsPersisted { get; private set; }

    public long FenceRounds { get; private set; }

    public long UnfenceableLegs { get; private set; }

    public long MailboxDrops { get; private set; }

    public long Recoveries { get; private set; }

    public long Replacements { get; private set; }

    public override void Receive(int from, object message)
    {
        switch (message)
        {
            case EntityRequest request:
                if (_mailbox.Count >= MaxMailbox)
                {
                    MailboxDrops++;
                    Sim.Log($"{Name} mailbox full: dropped {request}");
                    return;
                }
                _mailbox.Enqueue(new Work(from, request.RequestId, request.Command));
                Pump();
                return;
            case TargetReply reply:
                OnFenceReply(reply);
                return;
            default:
                throw Sim.Failure("protocol", $"{Name} got an unknown message {message}");
        }
    }

    protected override void OnCrash()
    {
        _mailbox.Clear();
        _current = null;
        _round = null;
        _fencedEpoch = 0;
        _pumping = false;
    }

    protected override void OnRestart()
    {
        _state = Replay(_volume, _journal);
        Recoveries++;
        Sim.Log($"{Name} recovered {_journal.Count} events: {SimText.View(_state.View())}");
        // Nobody may be waiting, but the legs may not be fenced at the journal's epoch: fence them now.
        _mailbox.Enqueue(new Work(-1, 0, new GetVolume(_volume)));
        Pump();
    }

    private static VolumeState Replay(VolumeName volume, IEnumerable<IVolumeEvent> journal)
    {
        VolumeState state = VolumeState.Empty(volume);
        foreach (IVolumeEvent e in journal)
        {
            state = state.Apply(e);
        }
        return state;
    }

    private void Pump()
    {
        if (_pumping)
        {
            return;
        }
        _pumping = true;
        while (Up && _current == null && _mailbox.TryDequeue(out Work? work))
        {
            _current = work;
            Handle(work);
        }
        _pumping = false;
    }

    private void Handle(Work work)
    {
        Commands++;
        Decision<IVolumeEvent, IVolumeReply> decision = _state.Decide(work.Command, Sim.Now);
        Sim.Log($"{Name} decide {SimText.Command(work.Command)}: [{string.Join(", ", decision.Events.Select(SimText.Event))}] {SimText.Reply(decision.Reply)}");
        if (work.Command is DriveLost lost && decision.Reply is VolumeStateReply)
        {
            decision = PlaceReplacements(lost.Drive);
        }
        Persist(decision.Events, () =>
        {
            if (decision.Reply is VolumeCommandRefused)
            {
                Finish(decision.Reply);
            }
            else
            {
                EnsureFenced(0);
            }
        });
    }

    /// <summary>The actor's placement step for a lost drive: a replacement for each leg on it, committed through the state.</summary>
    private Decision<IVolumeEvent, IVolumeReply> PlaceReplacements(DriveId drive)
    {
        VolumeState next = _state;
        var events = ImmutableArray.CreateBuilder<IVolumeEvent>();
        foreach ((int g, int l) in _state.LegsOn(drive).ToList())
        {
            LegInfo? replacement = World.PlaceReplacement(next.Groups[g], l, next.Segments().Concat(next.Releasing).ToHashSet(), Sim.Now);
            if (replacement == null)
            {
                continue;
            }
            var command = new CommitReplaceLeg(_volume, g, l, replacement);
            Decision<IVolumeEvent, IVolumeReply> decision = next.Decide(command, Sim.Now);
            Sim.Log($"{Name} decide CommitReplaceLeg(g{g}l{l} -> {replacement.Target}/{replacement.Segment.Segment}): [{string.Join(", ", decision.Events.Select(SimText.Event))}] {SimText.Reply(decision.Reply)}");
            foreach (IVolumeEvent e in decision.Events)
            {
                events.Add(e);
                next = next.Apply(e);
                Replacements += e is LegReplaced ? 1 : 0;
            }
        }
        return new Decision<IVolumeEvent, IVolumeReply>(events.ToImmutable(), new VolumeStateReply(next.View()));
    }

    private void Persist(ImmutableArray<IVolumeEvent> events, Action then)
    {
        if (events.IsEmpty)
        {
            then();
            return;
        }
        After(Sim.Between(1, MaxPersistMs), () =>
        {
            ulong before = _state.Epoch;
            _journal.AddRange(events);
            foreach (IVolumeEvent e in events)
            {
                _state = _state.Apply(e);
            }
            EventsPersisted += events.Length;
            Sim.Log($"{Name} persisted [{string.Join(", ", events.Select(SimText.Event))}] epoch {before}->{_state.Epoch}: {SimText.View(_state.View())}");
            World.Checker.OnJournal(events, _state);
            then();
        });
    }

    private void EnsureFenced(int roundNumber)
    {
        if (_state.Epoch == _fencedEpoch)
        {
            Finish(new VolumeStateReply(_state.View()));
            return;
        }
        if (roundNumber >= MaxFenceRounds)
        {
            Finish(new VolumeCommandRefused(_volume, VolumeRefusal.Busy, $"cannot fence the in-sync legs at epoch {_state.Epoch}; try again"));
            return;
        }
        var legs = new List<(int Group, int Leg)>();
        for (int g = 0; g < _state.Groups.Length; g++)
        {
            for (int l = 0; l < _state.Groups[g].Legs.Length; l++)
            {
                if (_state.Groups[g].Legs[l].State != LegState.Stale)
                {
                    legs.Add((g, l));
                }
            }
        }
        var round = new Round(_state.Epoch, roundNumber, [.. legs]);
        _round = round;
        FenceRounds++;
        for (int slot = 0; slot < round.Legs.Length; slot++)
        {
            SendFence(round, slot);
        }
    }

    private void SendFence(Round round, int slot)
    {
        round.Attempts[slot]++;
        (int g, int l) = round.Legs[slot];
        LegInfo leg = _state.Groups[g].Legs[l];
        long id = World.NextRequestId();
        round.Requests[id] = slot;
        Send(World.ProcessOf(leg.Target), new FenceSegment(id, leg.Segment.Segment, _state.Uid.Value, (uint)l, round.Epoch, _state.Writer.Value));
        After(FenceTimeoutMs, () =>
        {
            if (_round == round && round.Requests.Remove(id))
            {
                FenceAnswered(round, slot, null);
            }
        });
    }

    private void OnFenceReply(TargetReply reply)
    {
        Round? round = _round;
        if (round != null && round.Requests.Remove(reply.RequestId, out int slot))
        {
            FenceAnswered(round, slot, reply.Status);
        }
    }

    private void FenceAnswered(Round round, int slot, WireStatus? status)
    {
        if (status is WireStatus.StaleEpoch or WireStatus.Permission or WireStatus.NotFound or WireStatus.Invalid)
        {
            // Nothing may fence above the entity's epoch, and the segments are this volume's: the protocol is broken.
            throw Sim.Failure("fence", $"{Name}: the fence of g{round.Legs[slot].Group}l{round.Legs[slot].Leg} at epoch {round.Epoch} was answered {status}");
        }
        if (status != WireStatus.Ok && round.Attempts[slot] < FenceAttempts)
        {
            SendFence(round, slot);
            return;
        }
        round.Results[slot] = status ?? WireStatus.IoError;
        if (--round.Outstanding == 0)
        {
            RoundDone(round);
        }
    }

    private void RoundDone(Round round)
    {
        _round = null;
        if (round.Epoch != _state.Epoch)
        {
            throw Sim.Failure("fence", $"{Name}: the epoch moved from {round.Epoch} to {_state.Epoch} during a fence round");
        }
        VolumeState next = _state;
        var events = ImmutableArray.CreateBuilder<IVolumeEvent>();
        int failed = 0;
        for (int slot = 0; slot < round.Legs.Length; slot++)
        {
            if (round.Results[slot] == WireStatus.Ok)
            {
                continue;
            }
            failed++;
            (int g, int l) = round.Legs[slot];
            var command = new LegUnfenceable(_volume, round.Epoch, g, l, $"fence at epoch {round.Epoch}: {round.Results[slot]}");
            Decision<IVolumeEvent, IVolumeReply> decision = next.Decide(command, Sim.Now);
            Sim.Log($"{Name} decide {SimText.Command(command)}: [{string.Join(", ", decision.Events.Select(SimText.Event))}] {SimText.Reply(decision.Reply)}");
            foreach (IVolumeEvent e in decision.Events)
            {
                events.Add(e);
                next = next.Apply(e);
            }
        }
        if (failed == 0)
        {
            _fencedEpoch = round.Epoch;
            Sim.Log($"{Name} fenced every active leg at epoch {round.Epoch}");
            EnsureFenced(round.Number + 1);
            return;
        }
        UnfenceableLegs += failed;
        ImmutableArray<IVolumeEvent> decided = events.ToImmutable();
        Persist(decided, () =>
        {
            if (decided.IsEmpty && (World.Options.Bugs & SimBug.EntityAnswersWithUnfencedLegs) != 0)
            {
                Finish(new VolumeStateReply(_state.View()));
            }
            else if (decided.IsEmpty)
            {
                // Only a last in-sync leg is out of reach: it stays in sync, so try it again before answering.
                After(FenceRetryMs, () => EnsureFenced(round.Number + 1));
            }
            else
            {
                EnsureFenced(round.Number + 1);
            }
        });
    }

    private void Finish(IVolumeReply reply)
    {
        Work work = _current ?? throw Sim.Failure("protocol", $"{Name} answered with no command in hand");
        _current = null;
        if (work.From >= 0)
        {
            Send(work.From, new EntityReply(work.RequestId, reply));
        }
        Pump();
    }

    private sealed record Work(int From, long RequestId, IVolumeCommand Command);

    /// <summary>One fence of every active leg at one epoch; each leg gets up to <see cref="FenceAttempts"/> tries.</summary>
    private sealed class Round
    {
        public Round(ulong epoch, int number, (int Group, int Leg)[] legs)
        {
            Epoch = epoch;
            Number = number;
            Legs = legs;
            Attempts = new int[legs.Length];
            Results = new WireStatus?[legs.Length];
            Outstanding = legs.Length;
        }

        public ulong Epoch { get; }

        public int Number { get; }

        public (int Group, int Leg)[] Legs { get; }

        public int[] Attempts { get; }

        public WireStatus?[] Results { get; }

        /// <summary>Fence request id → leg slot, for the attempts still waiting for an answer.</summary>
        public Dictionary<long, int> Requests { get; } = [];

        public int Outstanding { get; set; }
    }
}
