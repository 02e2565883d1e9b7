using System.Globalization;
using System.Text.Json;
using Shoal.DataPath.Drives;

namespace Shoal.Integration.Tests;

/// <summary>
/// Three real <c>shoal node</c> processes on loopback, converged (target and client roles), journaling to one
/// PostgreSQL database, two file drives each. Node n1 creates the mirror:2 volume, attaches it and exports it over
/// NBD; every node can be killed and restarted with the same arguments.
/// </summary>
internal sealed class NodeCluster : IDisposable
{
    public const string Volume = "vol1";
    public const string SegmentSize = "16MiB";
    public const long SegmentBytes = 16L << 20;
    public const string VolumeSize = "128MiB";

    private readonly string _journal;
    private readonly int[] _akkaPorts = [Ports.Free(), Ports.Free(), Ports.Free()];
    private readonly int[] _dataPorts = [Ports.Free(), Ports.Free(), Ports.Free()];
    private readonly ShoalProcess?[] _nodes = new ShoalProcess?[3];
    private readonly int _outAfterSeconds;

    public NodeCluster(string journalConnection, int outAfterSeconds)
    {
        _journal = journalConnection;
        _outAfterSeconds = outAfterSeconds;
        Root = Directory.CreateTempSubdirectory("shoal-nodes-").FullName;
        KeyFile = Path.Combine(Root, "cluster.key");
        Shoal.DataPath.Wire.ClusterKey.LoadOrCreate(KeyFile);
        NbdPort = Ports.Free();
        NbdUri = $"nbd://127.0.0.1:{NbdPort}/{Volume}";
    }

    public string Root { get; }

    public string KeyFile { get; }

    public int NbdPort { get; }

    public string NbdUri { get; }

    public string StatsFile => Path.Combine(Root, "n1.stats.json");

    public ShoalProcess Node(int n) => _nodes[n - 1] ?? throw new InvalidOperationException($"n{n} is not running");

    public string DrivePath(int n, int drive) => Path.Combine(Root, $"n{n}", $"d{drive}.img");

    public void StartAll()
    {
        // n2 and n3 first: n1 creates the volume, which needs their drives registered.
        var starting = new[] { 1, 2, 3 }.Select(n => Task.Run(() => Start(n))).ToArray();
        Task.WaitAll(starting);
    }

    public void Start(int n)
    {
        var args = new List<string>
        {
            "node", "start", "--name", $"n{n}", "--data-dir", Path.Combine(Root, $"n{n}"), "--cluster-key-file", KeyFile,
            "--akka", $"127.0.0.1:{_akkaPorts[n - 1]}", "--seed", $"127.0.0.1:{_akkaPorts[0]}", "--seed", $"127.0.0.1:{_akkaPorts[1]}",
            "--journal", "postgresql", "--journal-connection", _journal,
            "--drive", DrivePath(n, 0) + "=256MiB", "--drive", DrivePath(n, 1) + "=256MiB", "--segment-size", SegmentSize,
            "--data-listen", $"127.0.0.1:{_dataPorts[n - 1]}", "--out-after", _outAfterSeconds.ToString(CultureInfo.InvariantCulture),
            "--sbr-stable-after", "5",
        };
        if (n == 1)
        {
            args.AddRange(["--volume", $"{Volume}=mirror:2:{VolumeSize}", "--attach", Volume, "--nbd-listen", $"127.0.0.1:{NbdPort}", "--stats-file", StatsFile]);
        }
        _nodes[n - 1] = ShoalProcess.StartWith($"n{n}", args, "shoal node ready", TimeSpan.FromMinutes(3));
    }

    public void Kill9(int n)
    {
        Node(n).Kill9();
        _nodes[n - 1]!.Dispose();
        _nodes[n - 1] = null;
    }

    /// <summary>The attached volume as n1's engine holds it: epoch and legs as "node/drive/segment:State" per group.</summary>
    public (ulong Epoch, string[][] Legs, long ResyncBytes) Volume1()
    {
        JsonElement v = StaticCluster.Snapshot(Node(1), StatsFile).GetProperty("counters").GetProperty("volumes")[0];
        return (v.GetProperty("epoch").GetUInt64(),
            [.. v.GetProperty("legs").EnumerateArray().Select(g => g.EnumerateArray().Select(l => l.GetString()!).ToArray())],
            v.GetProperty("resyncBytes").GetInt64());
    }

    /// <summary>Polls n1's view of the volume until <paramref name="condition"/> holds.</summary>
    public (ulong Epoch, string[][] Legs, long ResyncBytes) WaitForVolume(Func<(ulong Epoch, string[][] Legs, long ResyncBytes), bool> condition, TimeSpan timeout, string what)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        (ulong, string[][], long) last = Volume1();
        while (!condition(last))
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}; legs: {string.Join(" | ", last.Item2.Select(g => string.Join(",", g)))}");
            }
            Thread.Sleep(250);
            last = Volume1();
        }
        return last;
    }

    /// <summary>Reads each leg's segment straight from the drive files and asserts the legs of every group are identical.</summary>
    public void AssertLegsIdentical(string[][] legs)
    {
        for (int g = 0; g < legs.Length; g++)
        {
            byte[]? first = null;
            foreach (string leg in legs[g])
            {
                // "n2/1/5:InSync" → node 2, drive 1, segment 5
                string[] parts = leg.Split(':')[0].Split('/');
                byte[] bytes = ReadSegment(DrivePath(int.Parse(parts[0][1..], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture)), int.Parse(parts[2], CultureInfo.InvariantCulture));
                first ??= bytes;
                Assert.True(first.AsSpan().SequenceEqual(bytes), $"group {g}: leg {leg} differs from {legs[g][0]}");
            }
        }
    }

    private static byte[] ReadSegment(string drivePath, int segment)
    {
        using var file = new FileStream(drivePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] block = new byte[Superblock.Size];
        file.ReadExactly(block);
        Assert.Equal(Superblock.Verdict.Valid, Superblock.TryDecode(block, out Superblock? super));
        byte[] bytes = new byte[super!.SegmentBytes];
        file.Position = super.SegmentDataOffset(segment);
        file.ReadExactly(bytes);
        return bytes;
    }

    public string Logs() => string.Join("\n", _nodes.Where(n => n != null).SelectMany(n => n!.Lines.TakeLast(60).Select(l => $"[{n!.Label}] {l}")));

    public void Dispose()
    {
        for (int n = 3; n >= 1; n--)
        {
            _nodes[n - 1]?.Dispose();
        }
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // a drive file still held by a dying process: left for the OS's temp cleanup
        }
    }
}
