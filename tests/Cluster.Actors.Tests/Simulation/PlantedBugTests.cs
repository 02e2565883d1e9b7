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
    public void Checker_catches_a_planted_bug(SimBug bug)
    {
        foreach (int seed in SimSeeds.Ci)
        {
            var options = new SimOptions(seed, SimOptions.DefaultChaosSteps, bug);
            try
            {
                SimReport report = SimWorld.Execute(options);
                output.WriteLine($"seed {seed}: not caught ({report.WritesAcked} acknowledged writes, {report.ReadsChecked} reads)");
            }
            catch (SimulationFailure failure)
            {
                output.WriteLine($"seed {seed}: caught by check '{failure.Check}' at step {failure.Step}: {failure.Detail}");
                output.WriteLine($"replay: {SimulationFailure.ReplayCommand(options)}");
                return;
            }
        }
        Assert.Fail($"no CI seed caught the planted bug {bug}");
    }
}
