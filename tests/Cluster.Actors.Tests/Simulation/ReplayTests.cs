using System.Globalization;
using Xunit.Abstractions;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// Runs a seed given on the command line (see README.md), or a default seed when none is given: never skipped.
/// <c>SHOAL_SIM_SEED</c> picks the seed, <c>SHOAL_SIM_STEPS</c> the length of its fault phase, <c>SHOAL_SIM_BUGS</c>
/// plants bugs (names of <see cref="SimBug"/>, comma-separated), <c>SHOAL_SIM_SOAK=N</c> runs N consecutive seeds
/// from the given one (with <c>SHOAL_SIM_KEEP_GOING=1</c> a soak runs every seed and lists all that failed), and
/// <c>SHOAL_SIM_TRACE=path</c> writes every trace line (not just the last ones) to a file.
/// </summary>
public sealed class ReplayTests(ITestOutputHelper output)
{
    public const int DefaultSeed = 20251;

    /// <summary>Most seeds one soak run may ask for.</summary>
    public const int MaxSoakSeeds = 1_000_000;

    [Fact]
    public void Seed_from_environment()
    {
        int seed = (int)ReadInt("SHOAL_SIM_SEED", DefaultSeed, int.MinValue, int.MaxValue);
        long steps = ReadInt("SHOAL_SIM_STEPS", SimOptions.DefaultChaosSteps, 0, SimOptions.MaxChaosSteps);
        int count = (int)ReadInt("SHOAL_SIM_SOAK", 1, 1, MaxSoakSeeds);
        string? bugText = Environment.GetEnvironmentVariable("SHOAL_SIM_BUGS");
        SimBug bugs = string.IsNullOrWhiteSpace(bugText) ? SimBug.None : Enum.Parse<SimBug>(bugText, ignoreCase: true);
        bool keepGoing = Environment.GetEnvironmentVariable("SHOAL_SIM_KEEP_GOING") == "1";
        output.WriteLine($"replaying {count} seed(s) from {seed}, {steps} fault steps each{(bugs == SimBug.None ? "" : $", planted bugs {bugs}")}");
        var failures = new List<SimulationFailure>();
        for (int i = 0; i < count; i++)
        {
            var options = new SimOptions(unchecked(seed + i), steps, bugs);
            output.WriteLine($"seed {options.Seed}: {SimulationFailure.ReplayCommand(options)}");
            string? tracePath = Environment.GetEnvironmentVariable("SHOAL_SIM_TRACE");
            using StreamWriter? trace = string.IsNullOrWhiteSpace(tracePath) ? null : new StreamWriter(tracePath, append: i > 0);
            try
            {
                SimReport report = SimWorld.Execute(options, trace == null ? null : trace.WriteLine);
                output.WriteLine(report.ToString());
            }
            catch (SimulationFailure failure) when (keepGoing)
            {
                output.WriteLine($"seed {options.Seed} FAILED check '{failure.Check}' at step {failure.Step}: {failure.Detail}");
                failures.Add(failure);
            }
        }
        if (failures.Count > 0)
        {
            Assert.Fail($"{failures.Count} of {count} seeds failed: {string.Join(", ", failures.Select(f => $"{f.Seed} ({f.Check})"))}"
                + $"{Environment.NewLine}first failure:{Environment.NewLine}{failures[0].Message}");
        }
    }

    private static long ReadInt(string name, long fallback, long min, long max)
    {
        string? text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }
        long value = long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);
        return value >= min && value <= max
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be {min}..{max}");
    }
}
