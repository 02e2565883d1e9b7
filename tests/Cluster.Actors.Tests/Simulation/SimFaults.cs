using Shoal.DataPath.Volume;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// Injects the plan's partitions, crashes, client session changes (crash, orderly detach, or a handover that leaves
/// the old session running as the zombie) and drive losses on their own timers (message loss, duplication, delay and I/O errors are
/// the network's and targets' per-message draws) until <see cref="Heal"/>, which restores every link and process and
/// calms the network for good (a lost drive stays lost: its legs must have been replaced).
/// </summary>
internal sealed class SimFaults
{
    /// <summary>Most processes down at once.</summary>
    public const int MaxDown = 2;

    /// <summary>Most drives lost in one run (each takes a replacement and a full rebuild).</summary>
    public const int MaxDriveLosses = 3;

    /// <summary>Chance that the run opens with the entity cut off from one target (legs unfenceable at the first attach).</summary>
    public const double OpeningPartitionChance = 0.25;

    /// <summary>Share of client session changes that are an orderly detach and re-attach.</summary>
    public const double PlannedDetachShare = 0.25;

    /// <summary>Share of client session changes that are a split brain: the session lives on as the zombie.</summary>
    public const double HandoverShare = 0.5;

    private readonly SimWorld _world;
    private readonly SimFaultPlan _plan;
    private bool _healed;

    public SimFaults(SimWorld world, SimFaultPlan plan)
    {
        _world = world;
        _plan = plan;
    }

    public long Partitions { get; private set; }

    public long EntityCrashes { get; private set; }

    public long ClientCrashes { get; private set; }

    public long TargetCrashes { get; private set; }

    public long DriveLosses { get; private set; }

    public long Crashes => EntityCrashes + ClientCrashes + TargetCrashes;

    private Simulator Sim => _world.Sim;

    public void Start()
    {
        _world.Network.Plan = _plan;
        if (Sim.Chance(OpeningPartitionChance))
        {
            SimTarget target = Sim.Pick(_world.Targets);
            CutFor([(_world.Entity.Id, target.Id), (target.Id, _world.Entity.Id)], Sim.Between(50, 500), $"entity <-/-> {target.Name}");
        }
        if (_plan.PartitionEveryMs > 0)
        {
            Sim.At(Sim.Between(0, _plan.PartitionEveryMs), PartitionTick);
        }
        if (_plan.CrashEveryMs > 0)
        {
            Sim.At(Sim.Between(0, _plan.CrashEveryMs), CrashTick);
        }
        if (_plan.SessionEveryMs > 0)
        {
            Sim.At(Sim.Between(0, _plan.SessionEveryMs), SessionTick);
        }
        if (_plan.DriveLossEveryMs > 0)
        {
            Sim.At(Sim.Between(0, _plan.DriveLossEveryMs), DriveLossTick);
        }
    }

    public void Heal()
    {
        _healed = true;
        _world.Network.HealAll();
        _world.Network.Plan = SimFaultPlan.Calm;
        foreach (SimProcess process in _world.Processes)
        {
            if (!process.Up)
            {
                process.Restart();
            }
        }
        Sim.Log("HEAL: links restored, processes restarted, network calm");
    }

    private void PartitionTick()
    {
        if (_healed)
        {
            return;
        }
        Sim.At(Sim.Between(_plan.PartitionEveryMs / 2, _plan.PartitionEveryMs * 3 / 2), PartitionTick);
        IReadOnlyList<SimProcess> processes = _world.Processes;
        long lengthMs = Sim.Between(10, _plan.MaxPartitionMs);
        var links = new List<(int From, int To)>();
        string what;
        switch (Sim.Random.Next(3))
        {
            case 0:
                {
                    SimProcess isolated = Sim.Pick(processes);
                    foreach (SimProcess other in processes)
                    {
                        if (other != isolated)
                        {
                            links.Add((isolated.Id, other.Id));
                            links.Add((other.Id, isolated.Id));
                        }
                    }
                    what = $"{isolated.Name} isolated";
                    break;
                }
            case 1:
                {
                    (SimProcess a, SimProcess b) = TwoOf(processes);
                    links.Add((a.Id, b.Id));
                    links.Add((b.Id, a.Id));
                    what = $"{a.Name} <-/-> {b.Name}";
                    break;
                }
            default:
                {
                    (SimProcess a, SimProcess b) = TwoOf(processes);
                    links.Add((a.Id, b.Id));
                    what = $"{a.Name} -/-> {b.Name}";
                    break;
                }
        }
        CutFor(links, lengthMs, what);
    }

    private (SimProcess A, SimProcess B) TwoOf(IReadOnlyList<SimProcess> processes)
    {
        int a = Sim.Random.Next(processes.Count);
        int b = (a + 1 + Sim.Random.Next(processes.Count - 1)) % processes.Count;
        return (processes[a], processes[b]);
    }

    private void CutFor(List<(int From, int To)> links, long lengthMs, string what)
    {
        Partitions++;
        Sim.Log($"PARTITION {what} for {lengthMs}ms");
        foreach ((int from, int to) in links)
        {
            _world.Network.Cut(from, to);
        }
        Sim.At(lengthMs, () =>
        {
            foreach ((int from, int to) in links)
            {
                _world.Network.Uncut(from, to);
            }
            Sim.Log($"PARTITION over: {what}");
        });
    }

    private void CrashTick()
    {
        if (_healed)
        {
            return;
        }
        Sim.At(Sim.Between(_plan.CrashEveryMs / 2, _plan.CrashEveryMs * 3 / 2), CrashTick);
        if (_world.Processes.Count(p => !p.Up) >= MaxDown)
        {
            return;
        }
        var candidates = new List<SimProcess> { _world.Entity, _world.Client };
        candidates.AddRange(_world.Targets);
        candidates.RemoveAll(p => !p.Up);
        if (candidates.Count == 0)
        {
            return;
        }
        CrashFor(Sim.Pick(candidates));
    }

    private void SessionTick()
    {
        if (_healed)
        {
            return;
        }
        Sim.At(Sim.Between(_plan.SessionEveryMs / 2, _plan.SessionEveryMs * 3 / 2), SessionTick);
        SimClient client = _world.Client;
        double draw = Sim.Random.NextDouble();
        if (draw < PlannedDetachShare)
        {
            client.PlannedDetach();
        }
        else if (draw < PlannedDetachShare + HandoverShare)
        {
            client.Handover();
        }
        else if (client.Up && _world.Processes.Count(p => !p.Up) < MaxDown)
        {
            CrashFor(client);
        }
    }

    /// <summary>
    /// A target's drive fails for good. Only a drive whose every leg has another in-sync leg in its group (so one
    /// failure, not two at once); whatever happens after that is up to the system.
    /// </summary>
    private void DriveLossTick()
    {
        if (_healed || DriveLosses >= MaxDriveLosses)
        {
            return;
        }
        Sim.At(Sim.Between(_plan.DriveLossEveryMs / 2, _plan.DriveLossEveryMs * 3 / 2), DriveLossTick);
        var journal = _world.Checker.Journal;
        var candidates = _world.Targets.Where(t =>
        {
            var legs = journal.LegsOn(t.CurrentDrive).ToList();
            return legs.Count > 0 && legs.All(x => journal.Groups[x.Group].Legs.Where((other, l) => l != x.Leg && other.State == LegState.InSync).Any());
        }).ToList();
        if (candidates.Count == 0)
        {
            return;
        }
        DriveLosses++;
        SimTarget target = Sim.Pick(candidates);
        _world.Operator.DriveLost(target.LoseDrive());
    }

    private void CrashFor(SimProcess victim)
    {
        switch (victim)
        {
            case SimEntity:
                EntityCrashes++;
                break;
            case SimClient:
                ClientCrashes++;
                break;
            default:
                TargetCrashes++;
                break;
        }
        victim.Crash();
        Sim.At(Sim.Between(10, _plan.MaxDownMs), () =>
        {
            if (!victim.Up)
            {
                victim.Restart();
            }
        });
    }
}
