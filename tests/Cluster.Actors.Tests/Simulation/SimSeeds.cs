namespace Shoal.Actors.Tests.Simulation;

/// <summary>The seeds CI runs (and the planted-bug tests search). A seed that once found a bug stays here for good.</summary>
internal static class SimSeeds
{
    public const int SequentialSeeds = 48;

    /// <summary>
    /// Seeds kept for what they once found. 827 found, and 54 and 83 also reach, the intent-bitmap hole of resync
    /// copies made without intent bits (mirror:3, a rolling failure, a cold region): the client now marks intent on
    /// copies, and <see cref="SimBug.ClientCopiesWithoutIntent"/> brings the hole back. 59, 376, 1479 found a replacement
    /// leg that went stale mid-rebuild coming back as a delta rebuild (VolumeState now keeps the full rebuild); 249 found
    /// a resync report about a replaced segment applied to its replacement (reports now name their segment).
    /// </summary>
    public static IReadOnlyList<int> Regression { get; } = [54, 83, 827, 59, 376, 1479, 249];

    public static IReadOnlyList<int> Ci { get; } = [.. Enumerable.Range(1, SequentialSeeds), .. Regression];
}
