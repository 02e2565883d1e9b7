using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Shoal.Actors.Protocol;
using Shoal.Management.Api;
using Shoal.Management.Cli;

namespace Shoal.Host.Attach;

/// <summary>
/// <c>shoal attach</c> and <c>shoal detach</c>: a volume as a block device on this host. Attach asks the gateway to
/// attach the volume on a node (this host's client node) and binds its NBD export: to <c>/dev/nbdN</c> with
/// <c>nbd-client</c> where the kernel has nbd, else to a loop device over a FUSE file served by a detached
/// <c>shoal attach-helper</c>; it prints the device. Detach undoes it in reverse and refuses while the device is
/// mounted. Exit 0, 1 with one line when it cannot be done (nothing is left behind), 2 on a usage error.
/// </summary>
internal static class AttachCommand
{
    public const string Usage =
        "shoal attach VOLUME [--device auto|nbd|fuse-loop] [--node NAME] [--io-timeout 120s] [--run-dir DIR] [--api URL] [--token-file FILE]\n" +
        "  shoal attach --list [--run-dir DIR] [--json]\n" +
        "  shoal detach VOLUME|DEVICE [--run-dir DIR] [--api URL] [--token-file FILE]\n" +
        "  (--run-dir or $SHOAL_RUN_DIR, default /run/shoal: the host's attachments; the helper logs to DIR/attach/VOLUME/helper.log)";

    private static readonly TimeSpan s_gatewayTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_helperStartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_helperStopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_maxIoTimeout = TimeSpan.FromHours(24);

    public static int Run(string verb, IReadOnlyList<string> argv, TextWriter output, TextWriter error)
    {
        try
        {
            List<string> operands = [.. argv.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal))];
            List<string> options = [.. argv.Skip(operands.Count)];
            return verb == "attach" ? Attach(operands, options, output, error) : Detach(operands, options, output, error);
        }
        catch (Exception e) when (e is AttachException or ApiCallException)
        {
            error.WriteLine($"shoal {verb}: {e.Message}");
            return 1;
        }
    }

    private static int Attach(List<string> operands, List<string> options, TextWriter output, TextWriter error)
    {
        CliArgs args = CliArgs.Parse(options, new HashSet<string>([.. ManagementCli.CommonOptions, "device", "node", "io-timeout", "run-dir"]), new HashSet<string> { "list", "json" });
        string runDir = args.Optional("run-dir") ?? LocalAttachments.DefaultRunDir;
        if (args.Flag("list"))
        {
            return operands.Count == 0 ? List(runDir, args.Flag("json"), output) : throw new CliException("'attach --list' takes no operands");
        }
        if (operands.Count != 1)
        {
            throw new CliException("usage: " + Usage);
        }
        string volume = operands[0];
        if (VolumeNameRules.Problem(volume) is { } problem)
        {
            throw new CliException(problem);
        }
        TimeSpan ioTimeout = Seconds(args.Optional("io-timeout") ?? "120s", "--io-timeout");
        string mode = DeviceMode.Choose(args.Optional("device") ?? DeviceMode.Auto, DeviceMode.KernelHasNbd, HostTools.OnPath);
        if (LocalAttachments.Find(runDir, volume) is { } existing)
        {
            throw new AttachException($"volume {volume} is already attached on this host as {existing.Device} (shoal detach {volume} first)");
        }
        using ApiClient api = ManagementCli.Connect(args, s_gatewayTimeout);
        // A volume its node had attached already (the node's --attach, shoal volume attach) stays attached when this
        // attach fails or is undone: only an attachment made here is detached again.
        VolumeDto before = api.Get<VolumeDto>($"/volumes/{Uri.EscapeDataString(volume)}").GetAwaiter().GetResult();
        AttachmentResult attached = api.Post<AttachmentResult>($"/volumes/{Uri.EscapeDataString(volume)}/attach", new AttachRequest(args.Optional("node"))).GetAwaiter().GetResult();
        bool ours = !before.Attachments.Any(a => a.Node == attached.Node);
        LocalAttachment record;
        try
        {
            record = mode == DeviceMode.Nbd
                ? BindNbd(runDir, volume, attached, api.BaseUrl, ioTimeout, ours)
                : BindFuseLoop(runDir, volume, attached, api.BaseUrl, ioTimeout, ours);
        }
        catch (AttachException) when (ours)
        {
            // Nothing stays behind: the volume is detached again on the node it was attached on.
            TryGatewayDetach(api, volume, attached.Node, error);
            throw;
        }
        error.WriteLine($"volume {volume}: attached on {attached.Node} at epoch {attached.Epoch} ({attached.NbdUri}), {mode}" +
            (record.HelperPid != 0 ? $", helper pid {record.HelperPid}, log {record.HelperLog}" : ""));
        output.WriteLine(record.Device);
        return 0;
    }

    private static LocalAttachment BindFuseLoop(string runDir, string volume, AttachmentResult attached, string apiUrl, TimeSpan ioTimeout, bool ours)
    {
        string dir = LocalAttachments.DirectoryOf(runDir, volume);
        string mount = Path.Combine(dir, "mnt");
        string log = Path.Combine(dir, "helper.log");
        string file = Path.Combine(mount, volume);
        Directory.CreateDirectory(mount);
        int pid = 0;
        try
        {
            pid = StartHelper(attached.NbdUri, mount, volume, ioTimeout, log);
            bool up = HostTools.WaitFor(() => !HostTools.IsHelperAlive(pid) || (HostTools.IsMountPoint(mount) && File.Exists(file)), s_helperStartTimeout);
            if (!up || !HostTools.IsHelperAlive(pid))
            {
                throw new AttachException($"the attach helper did not serve {file} within {s_helperStartTimeout.TotalSeconds:0} s: " + HostTools.Tail(log, 1));
            }
            // Direct I/O keeps a second copy of every block out of the page cache; a kernel that cannot do it on this
            // file gets a buffered loop device (still write-through: FUSE without writeback caching sends every write).
            (int code, string device) = HostTools.Run("losetup", "-f", "--show", "--direct-io=on", file);
            if (code != 0)
            {
                (code, device) = HostTools.Run("losetup", "-f", "--show", file);
            }
            if (code != 0 || !device.StartsWith("/dev/loop", StringComparison.Ordinal))
            {
                throw new AttachException($"losetup {file}: {device}");
            }
            var record = new LocalAttachment(volume, DeviceMode.FuseLoop, device, attached.NbdUri, attached.Node, apiUrl, mount, file, pid, log, ours, DateTimeOffset.UtcNow);
            LocalAttachments.Save(runDir, record);
            return record;
        }
        catch (AttachException)
        {
            StopHelper(mount, pid);
            LocalAttachments.Remove(runDir, volume);
            throw;
        }
    }

    /// <summary>
    /// Starts <c>shoal attach-helper</c> in a session of its own (<c>setsid</c>): no terminal, no process group shared
    /// with the CLI or a node, so neither's end nor their signals stop it. Returns its pid, which it writes itself.
    /// </summary>
    private static int StartHelper(string uri, string mount, string file, TimeSpan ioTimeout, string log)
    {
        string pidFile = Path.Combine(Path.GetDirectoryName(log)!, "helper.pid");
        File.Delete(pidFile);
        var psi = new ProcessStartInfo("setsid") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        string self = Environment.ProcessPath!;
        psi.ArgumentList.Add(self);
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(AttachCommand).Assembly.Location);
        }
        foreach (string a in (string[])["attach-helper", "--uri", uri, "--mount", mount, "--file", file,
            "--io-timeout", ((int)ioTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture), "--log", log, "--pid-file", pidFile])
        {
            psi.ArgumentList.Add(a);
        }
        using Process started = Process.Start(psi) ?? throw new AttachException("cannot start setsid");
        int pid = 0;
        bool written = HostTools.WaitFor(() => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out pid) && pid > 0, s_helperStartTimeout);
        return written ? pid : throw new AttachException($"the attach helper did not start within {s_helperStartTimeout.TotalSeconds:0} s: " + HostTools.Tail(log, 1));
    }

    private static LocalAttachment BindNbd(string runDir, string volume, AttachmentResult attached, string apiUrl, TimeSpan ioTimeout, bool ours)
    {
        // Built for hosts whose kernel has nbd; not run on these machines (no nbd module): see README.
        string? device = Enumerable.Range(0, 256).Select(i => $"/dev/nbd{i}")
            .FirstOrDefault(d => File.Exists(d) && !File.Exists($"/sys/block/{Path.GetFileName(d)}/pid"));
        if (device == null)
        {
            throw new AttachException("no free /dev/nbdN (modprobe nbd nbds_max=N for more)");
        }
        (System.Net.EndPoint endPoint, string export) = Shoal.DataPath.Nbd.NbdClient.ParseUri(attached.NbdUri);
        List<string> argv = ["-N", export, "-t", ((int)ioTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture), "-p"];
        argv.AddRange(endPoint switch
        {
            System.Net.Sockets.UnixDomainSocketEndPoint unix => ["-u", unix.ToString(), device],
            System.Net.IPEndPoint ip => [ip.Address.ToString(), ip.Port.ToString(CultureInfo.InvariantCulture), device],
            System.Net.DnsEndPoint dns => [dns.Host, dns.Port.ToString(CultureInfo.InvariantCulture), device],
            _ => throw new AttachException($"cannot bind {attached.NbdUri} with nbd-client"),
        });
        (int code, string text) = HostTools.Run("nbd-client", [.. argv]);
        if (code != 0)
        {
            throw new AttachException($"nbd-client {device}: {text}");
        }
        Directory.CreateDirectory(LocalAttachments.DirectoryOf(runDir, volume));
        var record = new LocalAttachment(volume, DeviceMode.Nbd, device, attached.NbdUri, attached.Node, apiUrl, "", "", 0, "", ours, DateTimeOffset.UtcNow);
        LocalAttachments.Save(runDir, record);
        return record;
    }

    private static int Detach(List<string> operands, List<string> options, TextWriter output, TextWriter error)
    {
        CliArgs args = CliArgs.Parse(options, new HashSet<string>([.. ManagementCli.CommonOptions, "run-dir"]), new HashSet<string>());
        if (operands.Count != 1)
        {
            throw new CliException("usage: " + Usage);
        }
        string runDir = args.Optional("run-dir") ?? LocalAttachments.DefaultRunDir;
        LocalAttachment a = LocalAttachments.Find(runDir, operands[0])
            ?? throw new AttachException($"nothing is attached on this host as '{operands[0]}' (see shoal attach --list --run-dir {runDir})");
        if (HostTools.MountedAt(a.Device) is { } at)
        {
            throw new AttachException($"{a.Device} (volume {a.Volume}) is mounted on {at}: unmount it first");
        }
        string holders = $"/sys/block/{Path.GetFileName(a.Device)}/holders";
        if (Directory.Exists(holders) && Directory.GetFileSystemEntries(holders).Length > 0)
        {
            throw new AttachException($"{a.Device} (volume {a.Volume}) is held by {string.Join(", ", Directory.GetFileSystemEntries(holders).Select(Path.GetFileName))}: release it first");
        }
        if (a.Mode == DeviceMode.Nbd)
        {
            (int code, string text) = HostTools.Run("nbd-client", "-d", a.Device);
            if (code != 0)
            {
                throw new AttachException($"nbd-client -d {a.Device}: {text}");
            }
        }
        else
        {
            ReleaseLoop(a);
            if (!StopHelper(a.Mount, a.HelperPid, error))
            {
                throw new AttachException($"the attach helper (pid {a.HelperPid}) did not stop; see {a.HelperLog}");
            }
        }
        LocalAttachments.Remove(runDir, a.Volume);
        if (!a.DetachVolume)
        {
            error.WriteLine($"volume {a.Volume}: {a.Device} released; the volume stays attached on {a.Node}, as it was before shoal attach");
            output.WriteLine(a.Device);
            return 0;
        }
        // The gateway named by --api, else the one that attached it.
        CliArgs gateway = args.Optional("api") != null ? args : CliArgs.Parse([.. options, "--api", a.Api], new HashSet<string>([.. ManagementCli.CommonOptions, "run-dir"]), new HashSet<string>());
        using ApiClient api = ManagementCli.Connect(gateway, s_gatewayTimeout);
        try
        {
            api.Post<VolumeDto>($"/volumes/{Uri.EscapeDataString(a.Volume)}/detach", new DetachRequest(a.Node)).GetAwaiter().GetResult();
        }
        catch (ApiCallException e)
        {
            throw new AttachException($"{a.Device} is released, but volume {a.Volume} is still attached on {a.Node}: {e.Message} (shoal volume detach {a.Volume} --node {a.Node})");
        }
        error.WriteLine($"volume {a.Volume}: {a.Device} released, detached from {a.Node}");
        output.WriteLine(a.Device);
        return 0;
    }

    /// <summary>Detaches the loop device from the helper's file if it is still bound to it (a reused loop device is left alone).</summary>
    private static void ReleaseLoop(LocalAttachment a)
    {
        string backing = $"/sys/block/{Path.GetFileName(a.Device)}/loop/backing_file";
        bool Bound() => File.Exists(backing) && File.ReadAllText(backing).Trim() == a.File;
        if (!Bound())
        {
            return;
        }
        (int code, string text) = HostTools.Run("losetup", "-d", a.Device);
        if (code != 0)
        {
            throw new AttachException($"losetup -d {a.Device}: {text}");
        }
        if (!HostTools.WaitFor(() => !Bound(), s_helperStopTimeout))
        {
            IReadOnlyList<string> elsewhere = HostTools.MountedElsewhere(a.Device);
            throw new AttachException($"{a.Device} is still bound to {a.File} {s_helperStopTimeout.TotalSeconds:0} s after losetup -d: " + (elsewhere.Count > 0
                ? $"it is still mounted in another mount namespace ({string.Join(", ", elsewhere.Take(3))}); unmount it there (nsenter -t PID -m umount ...)"
                : "something still has it open"));
        }
    }

    /// <summary>Unmounts the helper's FUSE mount (it then ends by itself); a helper that does not is stopped by signal.</summary>
    private static bool StopHelper(string mount, int pid, TextWriter? error = null)
    {
        if (HostTools.IsMountPoint(mount))
        {
            string why = "";
            bool unmounted = HostTools.WaitFor(() =>
            {
                (int code, string text) = HostTools.Run("fusermount3", "-u", mount);
                why = text;
                return code == 0 || !HostTools.IsMountPoint(mount);
            }, TimeSpan.FromSeconds(10));
            if (!unmounted)
            {
                error?.WriteLine($"fusermount3 -u {mount} failed for 10 s: {why}");
            }
        }
        if (pid > 0 && !HostTools.WaitFor(() => !HostTools.IsHelperAlive(pid), s_helperStopTimeout))
        {
            error?.WriteLine($"the attach helper (pid {pid}) did not end within {s_helperStopTimeout.TotalSeconds:0} s of its unmount: killed");
            HostTools.Signal(pid, "KILL");
            HostTools.WaitFor(() => !HostTools.IsHelperAlive(pid), TimeSpan.FromSeconds(5));
        }
        if (HostTools.IsMountPoint(mount))
        {
            // A helper that died leaves a dead mount ("transport endpoint is not connected"); lazily unmounted.
            HostTools.Run("fusermount3", "-u", "-z", mount);
        }
        return pid <= 0 || !HostTools.IsHelperAlive(pid);
    }

    private static void TryGatewayDetach(ApiClient api, string volume, string node, TextWriter error)
    {
        try
        {
            api.Post<VolumeDto>($"/volumes/{Uri.EscapeDataString(volume)}/detach", new DetachRequest(node)).GetAwaiter().GetResult();
        }
        catch (ApiCallException e)
        {
            error.WriteLine($"shoal attach: and the volume could not be detached again: {e.Message} (shoal volume detach {volume} --node {node})");
        }
    }

    private static int List(string runDir, bool json, TextWriter output)
    {
        IReadOnlyList<LocalAttachment> all = LocalAttachments.List(runDir);
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(all));
            return 0;
        }
        var t = new Table("VOLUME", "DEVICE", "MODE", "NODE", "HELPER", "SINCE");
        foreach (LocalAttachment a in all)
        {
            t.Row(a.Volume, a.Device, a.Mode, a.Node,
                a.HelperPid == 0 ? "-" : $"{a.HelperPid} ({(HostTools.IsHelperAlive(a.HelperPid) ? "running" : "GONE")})", a.Since.ToString("u", CultureInfo.InvariantCulture));
        }
        output.Write(t.ToString());
        return 0;
    }

    /// <summary>"120s", "2m" or "120" (seconds).</summary>
    internal static TimeSpan Seconds(string text, string option)
    {
        (string number, int scale) = text.EndsWith('m') ? (text[..^1], 60) : text.EndsWith('s') ? (text[..^1], 1) : (text, 1);
        return int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 && TimeSpan.FromSeconds((long)n * scale) <= s_maxIoTimeout
            ? TimeSpan.FromSeconds((long)n * scale)
            : throw new CliException($"{option} must be a duration like 120s or 2m (1 s to 24 h), not '{text}'");
    }
}
