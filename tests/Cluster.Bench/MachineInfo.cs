using System.Runtime.InteropServices;

namespace Shoal.Bench;

/// <summary>What the figures were measured on: absolute numbers only mean something next to this.</summary>
internal sealed record MachineInfo(int Cores, string CpuModel, string Kernel, string DotnetRuntime, string Fio, string Nbdkit, string QemuNbd)
{
    public static MachineInfo Collect(string? fio, string? nbdkit, string? qemuNbd) => new(
        Environment.ProcessorCount,
        HostFacts.CpuModel(),
        HostFacts.FirstLine("/proc/sys/kernel/osrelease"),
        RuntimeInformation.FrameworkDescription,
        fio != null ? Tools.Version(fio, "--version") : "not installed",
        nbdkit != null ? Tools.Version(nbdkit, "--version") : "not installed",
        qemuNbd != null ? Tools.Version(qemuNbd, "--version") : "not installed");
}
