using System.Runtime.InteropServices;

namespace Shoal.Placement.Bench;

/// <summary>What the timings were measured on: they only mean something next to this.</summary>
internal sealed record MachineInfo(int Cores, string CpuModel, string DotnetRuntime, string LoadAverage)
{
    public static MachineInfo Collect() => new(Environment.ProcessorCount, HostFacts.CpuModel(), RuntimeInformation.FrameworkDescription, HostFacts.LoadAverage());
}
