namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// How hostile one run is. Each seed draws its own mix (swarm testing: some seeds lose many messages and never crash,
/// others crash often on a clean network), which reaches more corners than one average mix for every seed.
/// </summary>
internal sealed record SimFaultPlan(
    double LossRate,
    double DuplicateRate,
    double SlowRate,
    int MaxDelayMs,
    int SlowMaxDelayMs,
    double IoErrorRate,
    int PartitionEveryMs,
    int MaxPartitionMs,
    int CrashEveryMs,
    int MaxDownMs,
    int SessionEveryMs,
    int DriveLossEveryMs)
{
    /// <summary>Quickest ordinary delivery; a slow message takes from <see cref="MaxDelayMs"/> to <see cref="SlowMaxDelayMs"/>.</summary>
    public const int MinDelayMs = 1;

    /// <summary>What is left once every fault is healed: a plain network with small delays.</summary>
    public static SimFaultPlan Calm { get; } = new(0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0);

    public static SimFaultPlan Draw(Simulator sim) => new(
        LossRate: sim.Pick([0.0, 0.002, 0.01, 0.03]),
        DuplicateRate: sim.Pick([0.0, 0.005, 0.02]),
        SlowRate: sim.Pick([0.0, 0.005, 0.02, 0.05]),
        MaxDelayMs: sim.Pick([2, 5, 10]),
        SlowMaxDelayMs: sim.Pick([60, 150, 400]),
        IoErrorRate: sim.Pick([0.0, 0.001, 0.005]),
        PartitionEveryMs: sim.Pick([0, 400, 1000, 3000]),
        MaxPartitionMs: sim.Pick([100, 500, 1500]),
        CrashEveryMs: sim.Pick([0, 500, 1500, 4000]),
        MaxDownMs: sim.Pick([50, 300, 1000]),
        SessionEveryMs: sim.Pick([0, 300, 1000, 3000]),
        DriveLossEveryMs: sim.Pick([0, 0, 2000, 8000]));

    public override string ToString() =>
        $"loss {LossRate:0.###} dup {DuplicateRate:0.###} slow {SlowRate:0.###} delay {MinDelayMs}-{MaxDelayMs}/{SlowMaxDelayMs}ms io-error {IoErrorRate:0.###} "
        + $"partition every {PartitionEveryMs}ms up to {MaxPartitionMs}ms crash every {CrashEveryMs}ms down up to {MaxDownMs}ms "
        + $"client session change every {SessionEveryMs}ms drive loss every {DriveLossEveryMs}ms";
}
