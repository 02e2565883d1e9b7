using System.Runtime.InteropServices;

namespace Shoal.Placement.Bench;

/// <summary>What the timings were measured on: they only mean something next to this.</summary>
internal sealed record MachineInfo(int Cores, string CpuModel, string DotnetRuntime, string LoadAverage)
{
    public static MachineInfo Collect() => new(Environment.ProcessorCount, ReadCpuModel(), RuntimeInformation.FrameworkDescription, LoadAverageNow());

    public static string LoadAverageNow()
    {
        try
        {
            return string.Join(' ', (File.ReadLines("/proc/loadavg").FirstOrDefault() ?? "unknown").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string ReadCpuModel()
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
}
