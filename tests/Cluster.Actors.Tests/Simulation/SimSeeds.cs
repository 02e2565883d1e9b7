namespace Shoal.Actors.Tests.Simulation;

/// <summary>The seeds CI runs, and the ones the planted-bug tests search.</summary>
internal static class SimSeeds
{
    public static IReadOnlyList<int> Ci { get; } =
    [
        1, 2, 3, 5, 8, 13, 21, 34, 55, 89,
        144, 233, 377, 610, 987, 1597, 2584, 4181, 6765, 10946,
        17711, 28657, 46368, 75025, 121393, 196418, 317811, 514229, 832040, 1346269,
    ];
}
