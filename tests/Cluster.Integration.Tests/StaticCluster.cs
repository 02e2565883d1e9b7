using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Volume;

namespace Shoal.Integration.Tests;

/// <summary>
/// Target processes with file drives on tmpfs and a client process exporting one volume from a
/// static layout: the whole data path as separate real processes on loopback.
/// </summary>
internal sealed class StaticCluster : IDisposable
{
    private readonly Dictionary<string, (int Port, string Drive, ShoalProcess? Process)> _targets = [];

    public StaticCluster(string label)
    {
        Root = Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"shoal-it-{label}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(Root);
        KeyFile = Path.Combine(Root, "cluster.key");
        File.WriteAllText(KeyFile, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
        LayoutFile = Path.Combine(Root, "layout.json");
        StatsFile = Path.Combine(Root, "client.stats.json");
    }

    /// <summary>Two target processes and a client exporting a mirror:2 volume <c>vol</c> of <paramref name="size"/>.</summary>
    public static StaticCluster Mirror2(string label, string size)
    {
        var cluster = new StaticCluster(label);
        try
        {
            cluster.StartTarget("t1");
            cluster.StartTarget("t2");
            cluster.WriteLayout("mirror", size, legs: 2);
            cluster.StartClient();
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    public string Root { get; }

    public string KeyFile { get; }

    public string LayoutFile { get; }

    public string StatsFile { get; }

    public ShoalProcess? Client { get; private set; }

    public string NbdUri { get; private set; } = "";

    public int NbdPort { get; private set; }

    public string DrivePath(string target) => _targets[target].Drive;

    public int TargetPort(string target) => _targets[target].Port;

    public ShoalProcess Target(string name) => _targets[name].Process!;

    public string TargetStatsFile(string name) => Path.Combine(Root, $"{name}.stats.json");

    public void StartTarget(string name, string driveSize = "600MiB")
    {
        (int port, string drive) = _targets.TryGetValue(name, out var t) ? (t.Port, t.Drive) : (Ports.Free(), Path.Combine(Root, $"{name}.img"));
        ShoalProcess p = ShoalProcess.Start(name, "target", "--name", name, "--listen", $"127.0.0.1:{port}", "--drive", drive,
            "--create-size", driveSize, "--cluster-key-file", KeyFile, "--stats-file", TargetStatsFile(name));
        _targets[name] = (port, drive, p);
    }

    public void KillTarget(string name)
    {
        _targets[name].Process!.Kill9();
    }

    public void WriteLayout(string kind, string size, int legs = 1, int width = 0, string name = "vol")
    {
        var args = new List<string> { "layout", "--name", name, "--kind", kind, "--size", size, "--out", LayoutFile };
        foreach ((string target, var t) in _targets)
        {
            args.AddRange(["--target", $"{target}=127.0.0.1:{t.Port}"]);
        }
        if (legs > 1)
        {
            args.AddRange(["--legs", legs.ToString(CultureInfo.InvariantCulture)]);
        }
        if (width > 0)
        {
            args.AddRange(["--stripe-width", width.ToString(CultureInfo.InvariantCulture)]);
        }
        (int code, string output) = ShoalProcess.RunToEnd([.. args]);
        Assert.True(code == 0, output);
    }

    public VolumeLayout Layout => VolumeLayout.Load(LayoutFile);

    /// <summary>The client's NBD Unix socket (it listens on TCP and on this socket).</summary>
    public string NbdSocket => Path.Combine(Root, "nbd.sock");

    public void StartClient()
    {
        NbdPort = Ports.Free();
        Client = ShoalProcess.Start("client", "client", "--layout", LayoutFile, "--cluster-key-file", KeyFile,
            "--nbd", $"127.0.0.1:{NbdPort}", "--nbd-unix", NbdSocket, "--stats-file", StatsFile);
        NbdUri = $"nbd://127.0.0.1:{NbdPort}/{Layout.Name}";
    }

    /// <summary>Asks the client for a fresh stats snapshot (SIGUSR1) and returns its counters.</summary>
    public JsonElement ClientCounters() => Snapshot(Client!, StatsFile).GetProperty("counters");

    /// <summary>Asks a process for a fresh stats snapshot (SIGUSR1) and returns it whole (GC, CPU, counters).</summary>
    public static JsonElement Snapshot(ShoalProcess process, string statsFile)
    {
        string? previous = File.Exists(statsFile) ? File.ReadAllText(statsFile) : null;
        process.Signal("USR1");
        long deadline = Environment.TickCount64 + 10_000;
        while (Environment.TickCount64 < deadline)
        {
            try
            {
                string text = File.Exists(statsFile) ? File.ReadAllText(statsFile) : "";
                if (text.Length > 0 && text != previous)
                {
                    using JsonDocument doc = JsonDocument.Parse(text);
                    return doc.RootElement.Clone();
                }
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                // caught mid-rename: read again
            }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"{process.Label} did not write its stats");
    }

    /// <summary>Polls the client's counters until <paramref name="condition"/> holds.</summary>
    public JsonElement WaitForCounters(Func<JsonElement, bool> condition, TimeSpan timeout, string what)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        JsonElement last = default;
        while (Environment.TickCount64 < deadline)
        {
            last = ClientCounters();
            if (condition(last))
            {
                return last;
            }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}; last counters: {last}");
    }

    /// <summary>The bytes of one leg's segment, read straight from the target's drive file.</summary>
    public byte[] SegmentBytes(string target, uint segment)
    {
        using FileStream fs = File.OpenRead(DrivePath(target));
        byte[] head = new byte[Superblock.Size];
        fs.ReadExactly(head);
        Assert.Equal(Superblock.Verdict.Valid, Superblock.TryDecode(head, out Superblock? sb));
        byte[] data = new byte[sb!.SegmentBytes];
        fs.Position = sb.SegmentDataOffset((int)segment);
        fs.ReadExactly(data);
        return data;
    }

    public static byte[] FileHash(string path)
    {
        using FileStream fs = File.OpenRead(path);
        return SHA256.HashData(fs);
    }

    public void Dispose()
    {
        Client?.Dispose();
        foreach (var t in _targets.Values)
        {
            t.Process?.Dispose();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }
}
