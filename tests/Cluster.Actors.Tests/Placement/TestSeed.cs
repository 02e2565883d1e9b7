using System.Globalization;
using Xunit.Abstractions;

namespace Shoal.Actors.Tests.Placement;

/// <summary>A fresh seed per run, printed; <c>SHOAL_TEST_SEED=N</c> replays one.</summary>
internal static class TestSeed
{
    public static int Next(ITestOutputHelper output)
    {
        string? fixedSeed = Environment.GetEnvironmentVariable("SHOAL_TEST_SEED");
        int seed = fixedSeed is null ? Environment.TickCount : int.Parse(fixedSeed, CultureInfo.InvariantCulture);
        output.WriteLine($"seed {seed} (replay with SHOAL_TEST_SEED={seed})");
        return seed;
    }
}
