namespace Shoal.Bench.Shared;

/// <summary>What the benchmarks record about the machine they ran on, read from /proc ("unknown" when unreadable).</summary>
internal static class HostFacts
{
    public static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line != null ? line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim() : "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    /// <summary>The 1-, 5- and 15-minute load averages: other work on the machine skews every figure, so the reports show it.</summary>
    public static string LoadAverage() => string.Join(' ', FirstLine("/proc/loadavg").Split(' ').Take(3));

    public static string FirstLine(string path)
    {
        try
        {
            return File.ReadLines(path).FirstOrDefault()?.Trim() ?? "unknown";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
