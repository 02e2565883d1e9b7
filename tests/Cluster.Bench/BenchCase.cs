namespace Shoal.Bench;

/// <summary>One fio workload: 4 KiB random I/O from one job at a fixed queue depth.</summary>
internal sealed record BenchCase(string Name, string ReadWrite, int IoDepth)
{
    public const int BlockBytes = 4096;

    /// <summary>Every case in report order; a run executes the selected subset in this order.</summary>
    public static IReadOnlyList<BenchCase> All { get; } =
    [
        new("T1Q1-randread", "randread", 1),
        new("T1Q1-randwrite", "randwrite", 1),
        new("T1Q32-randread", "randread", 32),
        new("T1Q32-randwrite", "randwrite", 32),
    ];

    public bool IsRead => ReadWrite == "randread";

    /// <summary>The section of fio's JSON job object that holds this case's figures.</summary>
    public string FioDirection => IsRead ? "read" : "write";
}
