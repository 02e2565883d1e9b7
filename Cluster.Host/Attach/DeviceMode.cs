namespace Shoal.Host.Attach;

/// <summary>
/// How <c>shoal attach</c> presents a volume: the kernel's nbd driver where it exists (bound by <c>nbd-client</c>),
/// else a FUSE file bound to a loop device. <c>auto</c> picks nbd when <c>/sys/module/nbd</c> exists or
/// <c>modprobe nbd</c> works and <c>nbd-client</c> is installed.
/// </summary>
internal static class DeviceMode
{
    public const string Auto = "auto";
    public const string Nbd = "nbd";
    public const string FuseLoop = "fuse-loop";

    /// <summary>The mode to use, or an <see cref="AttachException"/> saying why the one asked for cannot work here.</summary>
    public static string Choose(string asked, Func<bool> kernelHasNbd, Func<string, bool> onPath)
    {
        switch (asked)
        {
            case Auto:
                return kernelHasNbd() && onPath("nbd-client") ? Nbd : Choose(FuseLoop, kernelHasNbd, onPath);
            case Nbd:
                if (!kernelHasNbd())
                {
                    throw new AttachException("--device nbd: this kernel has no nbd driver (no /sys/module/nbd, and 'modprobe nbd' failed); use --device fuse-loop");
                }
                return onPath("nbd-client") ? Nbd : throw new AttachException("--device nbd: nbd-client is not installed (apt-get install nbd-client)");
            case FuseLoop:
                if (!File.Exists("/dev/fuse"))
                {
                    throw new AttachException("--device fuse-loop: /dev/fuse does not exist (no FUSE in this kernel or container)");
                }
                string? missing = new[] { "fusermount3", "losetup" }.FirstOrDefault(t => !onPath(t));
                return missing == null ? FuseLoop : throw new AttachException($"--device fuse-loop: {missing} is not installed (apt-get install fuse3 mount)");
            default:
                throw new Management.Cli.CliException($"--device must be auto, nbd or fuse-loop, not '{asked}'");
        }
    }

    public static bool KernelHasNbd() => Directory.Exists("/sys/module/nbd") || HostTools.Run("modprobe", "nbd").ExitCode == 0;
}
