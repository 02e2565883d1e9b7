using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// <c>shoal attach --device fuse-loop</c> end to end on a real <c>shoal run</c> node: the volume as a loop device over
/// the helper's FUSE file, ext4 made and mounted on it, files of seeded random data written and fsynced while the
/// node is restarted (SIGTERM, then kill -9) under the writer, which must see no error; then fsck clean, every synced
/// file's checksum the same after a remount, and a clean detach. Bad input leaves nothing behind.
/// </summary>
public sealed partial class AttachHelperTests(ITestOutputHelper output) : IDisposable
{
    private const int FileBytes = 4 << 20;
    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromSeconds(60);

    private readonly EmbeddedNode _node = new();
    private readonly AttachedBlockDevice _host = new();

    public void Dispose()
    {
        _host.Dispose();
        _node.Dispose();
    }

    [Fact]
    public void Fuse_loop_device_carries_ext4_through_node_restarts_and_detaches_cleanly()
    {
        RequireTools();
        var clock = Stopwatch.StartNew();
        (int code, string text) = Cli("volume", "create", "fsvol", "--layout", "mirror", "--size", "512MiB", "--spread", "drive");
        Assert.True(code == 0, text);

        (code, text) = Cli("attach", "fsvol", "--device", "fuse-loop", "--io-timeout", "90s", "--run-dir", _host.RunDir);
        Assert.True(code == 0, text);
        string device = LoopDevice().Match(text).Value;
        Assert.StartsWith("/dev/loop", device, StringComparison.Ordinal);
        Assert.Equal([device], _host.LoopDevices());
        int helper = _host.HelperPid("fsvol");
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: attached as {device}, helper pid {helper}");

        Must("mkfs.ext4", "-q", "-F", device);
        Must("mount", device, _host.MountPoint);
        int seed = Random.Shared.Next();
        output.WriteLine($"writer seed {seed} (files of {FileBytes} bytes from new Random(seed + index))");
        var writer = new SyncedWriter(_host.MountPoint, seed, FileBytes, maxFiles: 96);
        writer.Start();
        try
        {
            WaitForFiles(writer, 2, "before the first restart");
            _node.Stop();
            _node.Start();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: node restarted after SIGTERM with {writer.Synced.Count} files synced");
            WaitForFiles(writer, writer.Synced.Count + 2, "after the SIGTERM restart");
            _node.Kill();
            _node.Start();
            output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: node restarted after kill -9 with {writer.Synced.Count} files synced");
            WaitForFiles(writer, writer.Synced.Count + 2, "after the kill -9 restart");
        }
        finally
        {
            writer.Stop();
        }
        Assert.True(writer.Error == null, $"the writer saw an error: {writer.Error}\n{_host.HelperLog("fsvol")}");
        Assert.Equal(helper, _host.HelperPid("fsvol"));
        string[] reconnects = [.. _host.HelperLog("fsvol").Split('\n').Where(l => l.Contains("reconnected", StringComparison.Ordinal))];
        output.WriteLine(string.Join("\n", reconnects));
        Assert.True(reconnects.Length == 2, $"the helper must have reconnected once per restart, not {reconnects.Length} times:\n" + _host.HelperLog("fsvol"));
        Assert.True(AttachedBlockDevice.ProcessAlive(helper), "the helper must outlive the node's restarts");

        (code, text) = Cli("detach", "fsvol", "--run-dir", _host.RunDir);
        Assert.True(code == 1 && text.Contains("is mounted", StringComparison.Ordinal), "detach of a mounted device must be refused: " + text);

        Must("umount", _host.MountPoint);
        (code, text) = Tool.Run("fsck.ext4", ["-fn", device], s_toolTimeout);
        Assert.True(code == 0, "fsck.ext4 -fn found problems:\n" + text);
        Must("mount", device, _host.MountPoint);
        foreach ((string name, string sha) in writer.Synced)
        {
            Assert.Equal(sha, Sha256(Path.Combine(_host.MountPoint, name)));
        }
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: fsck clean, {writer.Synced.Count} files match their checksums");
        Must("umount", _host.MountPoint);

        string helperLogFile = Path.Combine(_host.RunDir, "attach", "fsvol", "helper.log");
        string helperLog = "";
        using (var keep = new FileStream(helperLogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            (code, text) = Cli("detach", "fsvol", "--run-dir", _host.RunDir);
            helperLog = new StreamReader(keep).ReadToEnd();
        }
        Assert.True(code == 0, $"detach failed (exit {code}): {text}\nhelper log:\n{helperLog}");
        Assert.Empty(_host.LoopDevices());
        Assert.False(AttachedBlockDevice.IsMounted(_host.HelperMount("fsvol")), "the FUSE mount is still there after detach");
        Assert.False(AttachedBlockDevice.ProcessAlive(helper), "the helper still runs after detach");
        Assert.False(Directory.Exists(Path.Combine(_host.RunDir, "attach", "fsvol")), "the attachment's record is still there after detach");
        // fsync reached the volume as NBD flushes (the helper counts them in its last line). Not one per file: an fsync
        // whose journal transaction a periodic commit has already flushed sends none.
        Match stopped = HelperStopped().Match(helperLog);
        Assert.True(stopped.Success, "the helper did not log its orderly stop:\n" + helperLog);
        Assert.True(int.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture) > 0, $"no NBD flush reached the volume: {stopped.Value}");
        output.WriteLine(stopped.Value + $" for {writer.Synced.Count} fsynced files");
        (code, text) = Cli("volume", "show", "fsvol", "--json");
        Assert.True(code == 0, text);
        using (var volume = System.Text.Json.JsonDocument.Parse(text))
        {
            Assert.Equal(0, volume.RootElement.GetProperty("attachments").GetArrayLength());
        }
        (code, text) = Cli("detach", "fsvol", "--run-dir", _host.RunDir);
        Assert.True(code == 1 && text.Contains("nothing is attached", StringComparison.Ordinal), text);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: detached");
    }

    [Fact]
    public void Bad_attach_and_detach_fail_in_one_line_and_leave_nothing_behind_and_a_volume_attached_before_stays_attached()
    {
        RequireTools();
        (int code, string text) = Cli("attach", "novol", "--device", "fuse-loop", "--run-dir", _host.RunDir);
        Assert.True(code == 1, text);
        Assert.Single(text.Trim().Split('\n'));
        Assert.Contains("novol", text, StringComparison.Ordinal);
        AssertNothingLeft();

        (code, text) = Cli("attach", "demo", "--device", "nbd", "--run-dir", _host.RunDir);
        Assert.True(code == 1, text);
        Assert.Contains("no nbd driver", text, StringComparison.Ordinal);
        Assert.Single(text.Trim().Split('\n'));
        AssertNothingLeft();

        (code, text) = Cli("attach", "demo", "--device", "floppy", "--run-dir", _host.RunDir);
        Assert.True(code == 2, text);
        (code, text) = Cli("attach", "demo", "--io-timeout", "soon", "--run-dir", _host.RunDir);
        Assert.True(code == 2, text);
        (code, text) = Cli("attach", "../etc", "--run-dir", _host.RunDir);
        Assert.True(code == 2, text);
        AssertNothingLeft();

        (code, text) = Cli("detach", "demo", "--run-dir", _host.RunDir);
        Assert.True(code == 1 && text.Contains("nothing is attached", StringComparison.Ordinal), text);
        (code, text) = Cli("detach", "/dev/loop99", "--run-dir", _host.RunDir);
        Assert.True(code == 1, text);
        (code, text) = Cli("attach", "--list", "--run-dir", _host.RunDir);
        Assert.True(code == 0, text);
        Assert.DoesNotContain("demo", text, StringComparison.Ordinal);

        // demo is attached by its node's --attach: a block device over it comes and goes, the attachment stays. The
        // default --device auto picks fuse-loop on a kernel without nbd.
        (code, text) = Cli("attach", "demo", "--run-dir", _host.RunDir);
        Assert.True(code == 0, text);
        (code, text) = Cli("attach", "--list", "--run-dir", _host.RunDir);
        Assert.True(code == 0 && text.Contains("fuse-loop", StringComparison.Ordinal) && text.Contains("running", StringComparison.Ordinal), text);
        (code, text) = Cli("attach", "demo", "--device", "fuse-loop", "--run-dir", _host.RunDir);
        Assert.True(code == 1 && text.Contains("already attached", StringComparison.Ordinal), text);
        (code, text) = Cli("detach", "demo", "--run-dir", _host.RunDir);
        Assert.True(code == 0, text);
        AssertNothingLeft();
    }

    private void AssertNothingLeft()
    {
        Assert.Empty(_host.LoopDevices());
        string attach = Path.Combine(_host.RunDir, "attach");
        Assert.True(!Directory.Exists(attach) || Directory.GetFileSystemEntries(attach).Length == 0, "an attachment directory was left behind");
        Assert.DoesNotContain(File.ReadAllLines("/proc/self/mountinfo"), l => l.Contains(_host.RunDir, StringComparison.Ordinal));
        (int code, string text) = Cli("volume", "show", "demo", "--json");
        Assert.True(code == 0, text);
        // demo stays attached by its node's --attach only (one attachment, not a second one from the failed attach)
        using var volume = System.Text.Json.JsonDocument.Parse(text);
        Assert.Equal(1, volume.RootElement.GetProperty("attachments").GetArrayLength());
    }

    private (int Code, string Text) Cli(params string[] args) => _node.Cli(args);

    private static void RequireTools()
    {
        foreach (string tool in (string[])["mkfs.ext4", "fsck.ext4", "losetup", "mount", "umount", "fusermount3", "setsid"])
        {
            Tool.Require(tool);
        }
        Assert.True(File.Exists("/dev/fuse"), "/dev/fuse does not exist: FUSE is needed for shoal attach --device fuse-loop");
        Assert.True(File.Exists("/usr/lib/x86_64-linux-gnu/libfuse3.so.3") || File.Exists("/lib/x86_64-linux-gnu/libfuse3.so.3"),
            "libfuse3.so.3 is not installed: run the tests with 'dotnet pwsh ./build.ps1 test', which installs fuse3");
    }

    private static void Must(string tool, params string[] args)
    {
        (int code, string text) = Tool.Run(tool, args, s_toolTimeout);
        Assert.True(code == 0, $"{tool} {string.Join(' ', args)}: exit {code}\n{text}");
    }

    private void WaitForFiles(SyncedWriter writer, int count, string when)
    {
        long deadline = Environment.TickCount64 + 60_000;
        while (writer.Synced.Count < count && writer.Error == null)
        {
            Assert.True(Environment.TickCount64 < deadline, $"the writer did not sync {count} files {when} within 60 s ({writer.Synced.Count} so far)\n{_host.HelperLog("fsvol")}\n{_node.Logs()}");
            Thread.Sleep(50);
        }
        Assert.True(writer.Error == null, $"the writer saw an error {when}: {writer.Error}\n{_host.HelperLog("fsvol")}");
    }

    internal static string Sha256(string path)
    {
        using FileStream f = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(f));
    }

    [GeneratedRegex(@"stopped after \d+ reconnects and (\d+) flushes")]
    private static partial Regex HelperStopped();

    [GeneratedRegex(@"/dev/loop\d+")]
    private static partial Regex LoopDevice();
}
