using Xunit.Abstractions;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The simulation can fail: each bug planted in the simulated client or targets must be caught by the checker within
/// the CI seeds. (Nothing is planted in the product: <c>VolumeState</c> runs unchanged.)
/// </summary>
public sealed class PlantedBugTests(ITestOutputHelper output)
{
    public static TheoryData<SimBug> Bugs { get; } =
    [
        SimBug.ClientAcksBeforeLegFailedAnswer,
        SimBug.TargetIgnoresFences,
        SimBug.ClientSkipsResyncCopy,
        SimBug.ClientReadsRebuildingLegs,
        SimBug.EntityAnswersWithUnfencedLegs,
        SimBug.ClientSkipsReconcile,
        SimBug.ClientCopiesWithoutIntent,
    ];

    [Theory]
    [MemberData(nameof(Bugs))]
    public void Checker_catches_a_planted_bug(SimBug bug) => AssertCaught(bug, observableChecksOnly: false);

    /// <summary>The same bugs with only what a user could observe checked (reads, convergence, liveness).</summary>
    [Theory]
    [MemberData(nameof(Bugs))]
    public void Observable_checks_alone_catch_a_planted_bug(SimBug bug) => AssertCaught(bug, observableChecksOnly: true);

    private void AssertCaught(SimBug bug, bool observableChecksOnly)
    {
        foreach (int seed in SimSeeds.Ci)
        {
            var options = new SimOptions(seed, SimOptions.DefaultChaosSteps, bug, observableChecksOnly);
            try
            {
                SimReport report = SimWorld.Execute(options);
                output.WriteLine($"seed {seed}: not caught ({report.WritesAcked} acknowledged writes, {report.ReadsChecked} reads)");
            }
            catch (SimulationFailure failure)
            {
                Assert.False(observableChecksOnly && failure.Check is not ("read" or "converge" or "liveness"), $"check '{failure.Check}' fired with observable checks only");
                output.WriteLine($"seed {seed}: caught by check '{failure.Check}' at step {failure.Step}: {failure.Detail}");
                output.WriteLine($"replay: {SimulationFailure.ReplayCommand(options)}");
                return;
            }
        }
        Assert.Fail($"no CI seed caught the planted bug {bug}{(observableChecksOnly ? " with observable checks only" : "")}");
    }
}
