using System.Runtime.InteropServices;

namespace Shoal.Bench;

/// <summary>What the figures were measured on: absolute numbers only mean something next to this.</summary>
internal sealed record MachineInfo(int Cores, string CpuModel, string Kernel, string DotnetRuntime, string Fio, string Nbdkit, string QemuNbd)
{
    public static MachineInfo Collect(string? fio, string? nbdkit, string? qemuNbd) => new(
        Environment.ProcessorCount,
        ReadCpuModel(),
        ReadFirstLine("/proc/sys/kernel/osrelease"),
        RuntimeInformation.FrameworkDescription,
        fio != null ? Tools.Version(fio, "--version") : "not installed",
        nbdkit != null ? Tools.Version(nbdkit, "--version") : "not installed",
        qemuNbd != null ? Tools.Version(qemuNbd, "--version") : "not installed");

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

    /// <summary>The 1-, 5- and 15-minute load averages: other work on the machine skews every figure, so the report shows it.</summary>
    public static string LoadAverage()
    {
        string line = ReadFirstLine("/proc/loadavg");
        return string.Join(' ', line.Split(' ').Take(3));
    }

    private static string ReadFirstLine(string path)
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
