namespace Shoal.Actors.Tests.Simulation;

/// <summary>A checker violation (or a broken limit): the seed, the step, what was checked and the trace that led there.</summary>
internal sealed class SimulationFailure : Exception
{
    public SimulationFailure(SimOptions options, long step, long nowMs, string check, string detail, IReadOnlyList<string> trace)
        : base(Format(options, step, nowMs, check, detail, trace))
    {
        Seed = options.Seed;
        Step = step;
        Check = check;
        Detail = detail;
    }

    public int Seed { get; }

    public long Step { get; }

    /// <summary>Which invariant broke (for example <c>read</c>, <c>ack</c>, <c>converge</c>).</summary>
    public string Check { get; }

    public string Detail { get; }

    private static string Format(SimOptions options, long step, long nowMs, string check, string detail, IReadOnlyList<string> trace) =>
        $"simulation seed {options.Seed} failed check '{check}' at step {step} ({nowMs} ms virtual): {detail}{Environment.NewLine}"
        + $"replay: {ReplayCommand(options)}{Environment.NewLine}"
        + $"last {trace.Count} events:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", trace);

    /// <summary>The command line that runs this seed again, step for step.</summary>
    public static string ReplayCommand(SimOptions options) =>
        $"SHOAL_SIM_SEED={options.Seed} SHOAL_SIM_STEPS={options.ChaosSteps}"
        + (options.Bugs == SimBug.None ? "" : $" SHOAL_SIM_BUGS={options.Bugs.ToString().Replace(" ", "", StringComparison.Ordinal)}")
        + " dotnet test tests/Cluster.Actors.Tests --filter FullyQualifiedName~Simulation.Replay";
}
