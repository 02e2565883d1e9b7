namespace Shoal.Actors.Tests.Simulation;

/// <summary>The seeds CI runs (and the planted-bug tests search). A seed that once found a bug stays here for good.</summary>
internal static class SimSeeds
{
    public const int CiSeedCount = 48;

    public static IReadOnlyList<int> Ci { get; } = [.. Enumerable.Range(1, CiSeedCount)];
}
