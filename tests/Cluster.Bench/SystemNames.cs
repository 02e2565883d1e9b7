namespace Shoal.Bench;

/// <summary>The systems under test, in the order each case runs them.</summary>
internal static class SystemNames
{
    public const string Shoal = "shoal";
    public const string ShoalMirror2 = "shoal-mirror2";

    /// <summary>shoal (one leg) on drives formatted without block checksums: the cost of checksums at rest, side by side.</summary>
    public const string ShoalNoCrc = "shoal-nocrc";
    public const string Nbdkit = "nbdkit";
    public const string QemuNbd = "qemu-nbd";

    public static IReadOnlyList<string> All { get; } = [Shoal, ShoalNoCrc, ShoalMirror2, Nbdkit, QemuNbd];

    public static bool IsShoal(string system) => system.StartsWith(Shoal, StringComparison.Ordinal);
}
