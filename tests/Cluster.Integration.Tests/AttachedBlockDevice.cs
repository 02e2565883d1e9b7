using System.Globalization;

namespace Shoal.Integration.Tests;

/// <summary>
/// What a <c>shoal attach --device fuse-loop</c> test leaves on the host — a file system mounted from the loop device,
/// the loop device, the helper's FUSE mount and the helper — found under its run directory and removed in
/// <see cref="Dispose"/> even when the test failed: a leaked loop device or mount would break later runs.
/// </summary>
internal sealed class AttachedBlockDevice : IDisposable
{
    public AttachedBlockDevice()
    {
        Root = Path.Combine(Path.GetTempPath(), "shoal-attach-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(MountPoint);
        // This machine's / is a private mount, and other tests make mount namespaces (ip netns exec) at any time: one
        // made while the test's ext4 or FUSE mount exists would keep a copy of it, and with it the loop device, after
        // the test unmounts. A shared mount here makes those copies slaves of ours (ip netns exec turns its namespace
        // into a slave), so an unmount here reaches them too.
        Run("mount", "--bind", Root, Root);
        Run("mount", "--make-rshared", Root);
    }

    public string Root { get; }

    /// <summary>Passed as <c>--run-dir</c>: the attachments of this test only.</summary>
    public string RunDir => Path.Combine(Root, "run");

    /// <summary>Where the test mounts the ext4 file system.</summary>
    public string MountPoint => Path.Combine(Root, "fs");

    public string HelperMount(string volume) => Path.Combine(RunDir, "attach", volume, "mnt");

    public int HelperPid(string volume) =>
        File.Exists(Path.Combine(RunDir, "attach", volume, "helper.pid"))
            ? int.Parse(File.ReadAllText(Path.Combine(RunDir, "attach", volume, "helper.pid")).Trim(), CultureInfo.InvariantCulture)
            : 0;

    public string HelperLog(string volume) =>
        File.Exists(Path.Combine(RunDir, "attach", volume, "helper.log")) ? File.ReadAllText(Path.Combine(RunDir, "attach", volume, "helper.log")) : "(no helper log)";

    public static bool IsMounted(string path) =>
        File.ReadAllLines("/proc/self/mountinfo").Any(l => l.Split(' ')[4] == path.TrimEnd('/'));

    public static bool ProcessAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Loop devices bound to a file under this test's run directory.</summary>
    public IEnumerable<string> LoopDevices() =>
        Directory.GetDirectories("/sys/block", "loop*")
            .Where(d => File.Exists(Path.Combine(d, "loop", "backing_file")) && File.ReadAllText(Path.Combine(d, "loop", "backing_file")).Trim().StartsWith(RunDir, StringComparison.Ordinal))
            .Select(d => "/dev/" + Path.GetFileName(d));

    public void Dispose()
    {
        if (IsMounted(MountPoint))
        {
            Run("umount", MountPoint);
            Run("umount", "-l", MountPoint);
        }
        foreach (string device in LoopDevices())
        {
            Run("losetup", "-d", device);
        }
        string attachRoot = Path.Combine(RunDir, "attach");
        foreach (string dir in Directory.Exists(attachRoot) ? Directory.GetDirectories(attachRoot) : [])
        {
            string volume = Path.GetFileName(dir);
            if (IsMounted(HelperMount(volume)))
            {
                Run("fusermount3", "-u", "-z", HelperMount(volume));
            }
            if (HelperPid(volume) is > 0 and int pid && ProcessAlive(pid))
            {
                Run("kill", "-9", pid.ToString(CultureInfo.InvariantCulture));
            }
        }
        if (IsMounted(Root))
        {
            Run("umount", "-l", Root);
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a mount the kernel has not let go of yet; the temp directory is cleaned by the OS
        }
    }

    private static void Run(string tool, params string[] args)
    {
        try
        {
            Tool.Run(tool, args, TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            // best effort: the next step still runs
        }
    }
}
