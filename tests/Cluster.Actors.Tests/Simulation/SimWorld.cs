using System.Collections.Immutable;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.Actors.Volumes;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// One simulated cluster: the volume entity, the client, the zombie writer, the operator (drive entities) and the
/// targets on one network, with the checker watching. Everything is drawn from the seed: the volume's shape, the fault plan, every delay and fault.
/// A run has three phases: faults for <see cref="SimOptions.ChaosSteps"/> steps; heal and settle (every leg back in
/// sync on live drives, nothing in flight, nothing left to release); a final write and read of every block. <see cref="Run"/> returns the report or throws
/// a <see cref="SimulationFailure"/>.
/// </summary>
internal sealed class SimWorld
{
    /// <summary>Steps between two full sweeps of the in-sync legs by the checker.</summary>
    public const int CheckEverySteps = 64;

    private const int FirstTargetId = 4;

    private readonly Dictionary<NodeId, SimTarget> _targetsByName = [];
    private readonly List<SimProcess> _processes = [];
    private long _requestIds;
    private ulong _writerIds = 100;

    public SimWorld(SimOptions options)
    {
        if (options.ChaosSteps is < 0 or > SimOptions.MaxChaosSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(options), $"chaos steps must be 0..{SimOptions.MaxChaosSteps}");
        }
        Options = options;
        Sim = new Simulator(options);
        Geometry = SimGeometry.Draw(Sim);
        Plan = SimFaultPlan.Draw(Sim);
        Network = new SimNetwork(Sim, FirstTargetId + Geometry.TargetCount);
        var volume = new VolumeName("sim");
        Checker = new SimChecker(this, volume, Geometry.BlockCount);

        var targets = new List<SimTarget>();
        for (int t = 0; t < Geometry.TargetCount; t++)
        {
            var target = new SimTarget(this, FirstTargetId + t, $"t{t}");
            targets.Add(target);
            _targetsByName[new NodeId(target.Name)] = target;
        }
        Targets = targets;

        // Lay the legs out: group g's leg l on target (g + l) mod targets; one target more than legs is the spare room.
        var groups = ImmutableArray.CreateBuilder<GroupInfo>();
        for (int g = 0; g < Geometry.GroupCount; g++)
        {
            var legs = ImmutableArray.CreateBuilder<LegInfo>();
            for (int l = 0; l < Geometry.LegCount; l++)
            {
                SimTarget target = targets[Geometry.TargetOf(g, l)];
                SimSegment segment = target.FreeSegment(new HashSet<SegmentRef>());
                segment.Assign(g, l);
                legs.Add(new LegInfo(new SegmentRef(segment.Drive, segment.Index), new NodeId(target.Name), 0, LegState.InSync, null));
            }
            groups.Add(new GroupInfo(legs.ToImmutable()));
        }

        // The past: the volume was created, and a writer attached that will be forced out and turn zombie.
        var journal = new List<IVolumeEvent>();
        VolumeState state = VolumeState.Empty(volume);
        var spec = new VolumeSpec(LayoutKind.Mirror, Geometry.GroupCount * SimGeometry.SegmentBytes, Geometry.LegCount, 1, 128 * 1024, "ssd", FailureDomainLevel.Node);
        state = SetupDecide(state, journal, new CommitCreate(volume, new VolumeUid(0x5100a1), spec, SimGeometry.SegmentBytes, Geometry.RegionBytes, groups.ToImmutable()));
        var zombieWriter = new WriterId(NextWriterId());
        state = SetupDecide(state, journal, new AttachVolume(volume, new NodeId("zombie"), zombieWriter, AttachMode.ReadWrite, Force: false));
        for (int g = 0; g < Geometry.GroupCount; g++)
        {
            for (int l = 0; l < Geometry.LegCount; l++)
            {
                TargetOf(g, l).FenceAtSetup(state.Groups[g].Legs[l].Segment.Segment, state.Uid.Value, (uint)l, state.Epoch, zombieWriter.Value);
            }
        }

        Entity = new SimEntity(this, 0, "entity", volume, journal);
        Client = new SimClient(this, 1, "client", volume);
        Zombie = new SimZombie(this, 2, "zombie", state.View());
        Operator = new SimOperator(this, 3, "operator", volume);
        _processes.AddRange([Entity, Client, Zombie, Operator]);
        _processes.AddRange(targets);
        foreach (SimProcess process in _processes)
        {
            Network.Register(process);
        }
        Faults = new SimFaults(this, Plan);
    }

    public SimOptions Options { get; }

    public Simulator Sim { get; }

    public SimGeometry Geometry { get; }

    public SimFaultPlan Plan { get; }

    public SimNetwork Network { get; }

    public SimChecker Checker { get; }

    public SimFaults Faults { get; }

    public SimEntity Entity { get; }

    public SimClient Client { get; }

    public SimZombie Zombie { get; }

    public SimOperator Operator { get; }

    public IReadOnlyList<SimTarget> Targets { get; }

    public IReadOnlyList<SimProcess> Processes => _processes;

    /// <summary>Runs one seed to the end; throws <see cref="SimulationFailure"/> on the first broken check.</summary>
    public static SimReport Execute(SimOptions options, Action<string>? traceSink = null)
    {
        var world = new SimWorld(options);
        world.Sim.Trace.Sink = traceSink;
        return world.Run();
    }

    public long NextRequestId() => ++_requestIds;

    public ulong NextWriterId() => ++_writerIds;

    public int ProcessOf(NodeId target) => _targetsByName[target].Id;

    /// <summary>The segment serving a leg, as the journal says now.</summary>
    public SimSegment SegmentOf(int group, int leg) => SegmentAt(Checker.Journal.Groups[group].Legs[leg]);

    public SimTarget TargetOf(int group, int leg) => _targetsByName[Checker.Journal.Groups[group].Legs[leg].Target];

    public SimSegment SegmentAt(LegInfo leg) => _targetsByName[leg.Target].Segments[(int)leg.Segment.Segment];

    /// <summary>Whether the segment a leg names sits on a lost drive.</summary>
    public bool IsLost(LegInfo leg) => SegmentAt(leg).Lost;

    /// <summary>The journal made <paramref name="leg"/> the segment serving group <paramref name="group"/>, leg <paramref name="legIndex"/>.</summary>
    public void OnLegPlaced(int group, int legIndex, LegInfo leg) => SegmentAt(leg).Assign(group, legIndex);

    /// <summary>
    /// Placement for a replacement leg: a blank segment on a target that holds no other leg of the group (nor a lost
    /// one), chosen at random; null when there is none.
    /// </summary>
    public LegInfo? PlaceReplacement(GroupInfo group, int leg, IReadOnlySet<SegmentRef> inUse, DateTimeOffset now)
    {
        var candidates = Targets.Where(t => !group.Legs.Where((_, l) => l != leg).Any(other => other.Target.Value == t.Name)).ToList();
        if (candidates.Count == 0)
        {
            return null;
        }
        SimTarget target = Sim.Pick(candidates);
        SimSegment segment = target.FreeSegment(inUse);
        var progress = new RebuildProgress(RebuildKind.Full, 0, SimGeometry.SegmentBytes, now, now);
        return new LegInfo(new SegmentRef(segment.Drive, segment.Index), new NodeId(target.Name), 0, LegState.Rebuilding, progress);
    }

    /// <summary>The client's first attach was answered: every in-sync leg is fenced past the zombie's epoch.</summary>
    public void OnClientAttached() => Zombie.Activate();

    public SimReport Run()
    {
        Sim.Log($"seed {Options.Seed}: {Geometry}; {Plan}");
        Faults.Start();
        Client.Start();
        Operator.Start();
        RunUntil(() => Sim.Step >= Options.ChaosSteps, "fault phase");

        Faults.Heal();
        Client.Mode = SimClientMode.Off;
        RunUntil(Settled, "settling after healing");
        Checker.CheckConverged();

        long writesFailed = Client.WritesFailed;
        long readsFailed = Client.ReadsFailed;
        Client.StartSweep(SimClientMode.SweepWrite);
        RunUntil(() => Client.SweepStarted && Settled(), "final write sweep");
        Client.StartSweep(SimClientMode.SweepRead);
        RunUntil(() => Client.SweepStarted && Settled(), "final read sweep");
        if (Client.WritesFailed != writesFailed || Client.ReadsFailed != readsFailed)
        {
            throw Sim.Failure("liveness", $"{Client.WritesFailed - writesFailed} writes and {Client.ReadsFailed - readsFailed} reads failed after healing");
        }
        Checker.CheckExact();
        return Report();
    }

    private VolumeState SetupDecide(VolumeState state, List<IVolumeEvent> journal, IVolumeCommand command)
    {
        Decision<IVolumeEvent, IVolumeReply> decision = state.Decide(command, DateTimeOffset.UnixEpoch);
        if (decision.Reply is not VolumeStateReply)
        {
            throw new InvalidOperationException($"setup command {command.GetType().Name} refused: {decision.Reply}");
        }
        foreach (IVolumeEvent e in decision.Events)
        {
            state = state.Apply(e);
        }
        journal.AddRange(decision.Events);
        Checker.OnJournal(decision.Events, state);
        return state;
    }

    /// <summary>Everything healthy and quiet: the client attached and idle, the entity idle, every leg in sync in the journal and in the client's layout.</summary>
    private bool Settled()
    {
        VolumeState journal = Checker.Journal;
        return Client.Ready && Client.Idle && Client.View is { } view && AllInSync(view.Groups)
            && Entity.Up && Entity.Idle && AllInSync(journal.Groups)
            && journal.Epoch == view.Epoch && journal.Writer == Client.Writer
            && journal.Releasing.IsEmpty && !journal.Groups.Any(g => g.Legs.Any(IsLost));
    }

    private static bool AllInSync(ImmutableArray<GroupInfo> groups) => groups.All(g => g.InSyncCount == g.Legs.Length);

    private void RunUntil(Func<bool> done, string phase)
    {
        while (!done())
        {
            if (Sim.Step >= Options.MaxSteps)
            {
                throw Sim.Failure("liveness", $"{phase} not done after {Sim.Step} steps: {Status()}");
            }
            if (!Sim.RunNext())
            {
                throw Sim.Failure("liveness", $"{phase}: nothing left to run");
            }
            if (Sim.Step % CheckEverySteps == 0)
            {
                Checker.CheckInSyncLegs();
            }
        }
    }

    private string Status()
    {
        VolumeView? view = Client.View;
        VolumeState journal = Checker.Journal;
        var lost = new List<string>();
        for (int g = 0; g < journal.Groups.Length; g++)
        {
            for (int l = 0; l < journal.Groups[g].Legs.Length; l++)
            {
                if (IsLost(journal.Groups[g].Legs[l]))
                {
                    lost.Add($"g{g}l{l} ({journal.Groups[g].Legs[l].State})");
                }
            }
        }
        return $"legs on lost drives: [{string.Join(", ", lost)}]; client {(Client.Ready ? "ready" : "not ready")}{(Client.Idle ? " idle" : " busy")} writer w{Client.Writer.Value} "
            + $"layout {(view == null ? "none" : SimText.View(view))}; journal {SimText.View(Checker.Journal.View())}; entity {(Entity.Up ? Entity.Idle ? "idle" : "busy" : "down")}";
    }

    private SimReport Report() => new(
        Options.Seed,
        Geometry.ToString(),
        Plan.ToString(),
        Sim.Step,
        Sim.NowMs,
        Checker.WritesIssued,
        Checker.WritesAcked,
        Checker.WritesFailed,
        Checker.ReadsChecked,
        Client.ReadsFailed,
        Faults.Partitions,
        Faults.EntityCrashes,
        Faults.ClientCrashes,
        Faults.TargetCrashes,
        Faults.DriveLosses,
        Network.Sent,
        Network.Lost,
        Network.Duplicated,
        Targets.Sum(t => t.IoErrorsInjected),
        Entity.Commands,
        Entity.EventsPersisted,
        Entity.Recoveries,
        Entity.MailboxDrops,
        Client.LegFailuresSeen,
        Entity.FenceRounds,
        Entity.UnfenceableLegs,
        Entity.Replacements,
        Client.FencePushes,
        Client.ResyncsDone,
        Client.RegionsCopied,
        Client.Reconciles,
        Client.IntentClears,
        Client.Reboots,
        Client.Detaches,
        Client.Handovers,
        Zombie.WritesSent,
        Checker.ZombieWritesLanded,
        Zombie.CommandsRefused,
        Checker.TargetReadsChecked,
        Checker.FencesChecked,
        Checker.InvariantSweeps,
        Checker.Journal.Epoch,
        Sim.Trace.Fingerprint);
}
