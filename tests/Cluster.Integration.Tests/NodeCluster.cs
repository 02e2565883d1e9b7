using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Shoal.DataPath.Drives;

namespace Shoal.Integration.Tests;

/// <summary>
/// Real <c>shoal node</c> processes on loopback journaling to one PostgreSQL database: n1–n3 are targets with two
/// file drives each; the client that creates the mirror:2 volume, attaches it and exports it over NBD is either n1
/// itself (converged) or a client-only n4. More client-only nodes (n5, …) can attach by force. Every node can be
/// killed and restarted with the same arguments. The volume's size, the segment size and the client's resync rate can be
/// chosen (a one-group volume on big segments copied slowly makes a long rebuild to interrupt).
/// </summary>
internal sealed class NodeCluster : IDisposable
{
    public const string Volume = "vol1";
    public const string SegmentSize = "16MiB";
    public const long SegmentBytes = 16L << 20;
    public const string VolumeSize = "128MiB";

    private readonly string _journal;
    private const int MaxNodes = 6;
    private readonly int[] _akkaPorts = [.. Enumerable.Range(0, MaxNodes).Select(_ => Ports.Free())];
    private readonly int[] _dataPorts = [.. Enumerable.Range(0, MaxNodes).Select(_ => Ports.Free())];
    private readonly int[] _nbdPorts = [.. Enumerable.Range(0, MaxNodes).Select(_ => Ports.Free())];
    private readonly int[] _httpPorts = [.. Enumerable.Range(0, MaxNodes).Select(_ => Ports.Free())];
    private readonly ShoalProcess?[] _nodes = new ShoalProcess?[MaxNodes];
    private readonly HashSet<int> _forced = [];
    private readonly int _outAfterSeconds;
    private readonly string _volumeSize;
    private readonly string _segmentSize;
    private readonly string? _resyncRate;
    private readonly int _managementNodes;
    private readonly bool _volumeAtStart;
    private readonly Func<int, IEnumerable<string>>? _extraArgs;
    private readonly FaultNetwork? _network;

    /// <param name="client">1: n1 is converged (target and client); 4: a client-only n4</param>
    /// <param name="resyncRate">the client's --resync-rate; null for the node's default</param>
    /// <param name="management">n1 also has the management role and serves the REST gateway at <see cref="ApiUrl"/></param>
    /// <param name="managementNodes">with <paramref name="management"/>: how many nodes from n1 on serve a gateway
    /// (a second one is the operator's way in while n1 restarts)</param>
    /// <param name="extraArgs">more <c>shoal node start</c> options for a node (e.g. <c>--wire-protocol 1</c>)</param>
    /// <param name="network">run each node in its own network namespace on this bridge (null: every node on loopback)</param>
    /// <param name="volumeAtStart">the client creates and attaches the volume as it starts; false: the test does it through the gateway
    /// (once every node's drives are registered, so placement sees them all)</param>
    public NodeCluster(string journalConnection, int outAfterSeconds, int client = 1, string volumeSize = VolumeSize, string segmentSize = SegmentSize, string? resyncRate = null,
        bool management = false, Func<int, IEnumerable<string>>? extraArgs = null, bool volumeAtStart = true, int managementNodes = 1,
        FaultNetwork? network = null)
    {
        _network = network;
        _managementNodes = management ? managementNodes : 0;
        _volumeAtStart = volumeAtStart;
        _extraArgs = extraArgs;
        _journal = journalConnection;
        _outAfterSeconds = outAfterSeconds;
        _volumeSize = volumeSize;
        _segmentSize = segmentSize;
        _resyncRate = resyncRate;
        Client = client;
        Root = Directory.CreateTempSubdirectory("shoal-nodes-").FullName;
        KeyFile = Path.Combine(Root, "cluster.key");
        Shoal.DataPath.Wire.ClusterKey.LoadOrCreate(KeyFile);
    }

    /// <summary>The node that created and attached the volume.</summary>
    public int Client { get; }

    public string Root { get; }

    public string KeyFile { get; }

    public string NbdUri => UriOf(Client);

    /// <summary>n1's REST gateway (with <c>management: true</c>).</summary>
    public string ApiUrl => ApiUrlOf(1);

    /// <summary>Node n's REST gateway (n ≤ managementNodes).</summary>
    public string ApiUrlOf(int n) => $"http://{Host(n)}:{_httpPorts[n - 1]}/api/v1";

    /// <summary>The admin token n1 wrote in its data directory at start.</summary>
    public string AdminTokenFile => AdminTokenFileOf(1);

    public string AdminTokenFileOf(int n) => Path.Combine(Root, $"n{n}", "admin.token");

    /// <summary>Runs the <c>shoal</c> CLI against n1's gateway.</summary>
    public (int ExitCode, string Output) Cli(params string[] args) => CliVia(1, args);

    /// <summary>Runs the <c>shoal</c> CLI against node n's gateway with its admin token.</summary>
    public (int ExitCode, string Output) CliVia(int n, params string[] args) =>
        ShoalProcess.RunToEnd([.. args, "--api", ApiUrlOf(n), "--token-file", AdminTokenFileOf(n)]);

    public string UriOf(int n) => $"nbd://{Host(n)}:{_nbdPorts[n - 1]}/{Volume}";

    /// <summary>The address node n binds: its namespace's address on the bridge, or loopback.</summary>
    public string Host(int n) => _network?.Address(n) ?? "127.0.0.1";

    public int AkkaPort(int n) => _akkaPorts[n - 1];

    public int DataPort(int n) => _dataPorts[n - 1];

    public string StatsFile(int n) => Path.Combine(Root, $"n{n}.stats.json");

    public ShoalProcess Node(int n) => _nodes[n - 1] ?? throw new InvalidOperationException($"n{n} is not running");

    /// <summary>
    /// Once all three target nodes' drives are online, creates the volume through n1's gateway, so placement may use
    /// every node (a volume declared at a node's start is placed on the drives that node has heard of by then). The
    /// volume entity places on its own node's directory, which may still lack a drive: 507 is retried for 30 s.
    /// </summary>
    public void CreateVolumeThroughGateway()
    {
        Poll.Until(() => Cli("drive", "list", "--json") is (0, var list) && Regex.Matches(list, "\"status\":\\s*\"online\"").Count == 6,
            "every drive online", TimeSpan.FromSeconds(60));
        (int code, string text) = (0, "");
        Poll.Until(() =>
        {
            (code, text) = Cli("volume", "create", Volume, "--layout", "mirror", "--size", _volumeSize);
            return code == 0 || !text.Contains("507", StringComparison.Ordinal);
        }, "the volume created with every node's drives in view", TimeSpan.FromSeconds(30));
        Assert.True(code == 0, text);
    }

    public string AkkaAddress(int n) => $"{Host(n)}:{_akkaPorts[n - 1]}";

    public string DrivePath(int n, int drive) => Path.Combine(Root, $"n{n}", $"d{drive}.img");

    public void StartAll()
    {
        int[] nodes = Client == 1 ? [1, 2, 3] : [1, 2, 3, Client];
        Task.WaitAll([.. nodes.Select(n => Task.Run(() => Start(n)))]);
    }

    /// <summary>Starts another client-only node that attaches the volume by force, fencing the current writer out.</summary>
    public void StartForcedClient(int n)
    {
        _forced.Add(n);
        Start(n);
    }

    public void Start(int n)
    {
        var args = new List<string>
        {
            "node", "start", "--name", $"n{n}", "--data-dir", Path.Combine(Root, $"n{n}"), "--cluster-key-file", KeyFile,
            "--akka", AkkaAddress(n),
            "--journal", "postgresql", "--journal-connection", _journal, "--segment-size", _segmentSize,
            "--out-after", _outAfterSeconds.ToString(CultureInfo.InvariantCulture), "--sbr-stable-after", "5",
        };
        // Every node of the cluster is a seed: a restarted first seed then finds the others instead of forming a
        // cluster of its own when the second seed happens to be down too.
        for (int s = 1; s <= Math.Max(3, Client); s++)
        {
            args.AddRange(["--seed", AkkaAddress(s)]);
        }
        bool target = n <= 3;
        bool client = n == Client || _forced.Contains(n);
        bool management = n <= _managementNodes;
        args.AddRange(["--roles", (target && client ? "target,client" : target ? "target" : "client") + (management ? ",management" : "")]);
        if (management)
        {
            args.AddRange(["--http-listen", $"{Host(n)}:{_httpPorts[n - 1]}"]);
        }
        args.AddRange(_extraArgs?.Invoke(n) ?? []);
        if (target)
        {
            args.AddRange(["--drive", DrivePath(n, 0) + "=256MiB", "--drive", DrivePath(n, 1) + "=256MiB", "--data-listen", $"{Host(n)}:{_dataPorts[n - 1]}"]);
        }
        if (n == Client && _volumeAtStart)
        {
            args.AddRange(["--volume", $"{Volume}=mirror:2:{_volumeSize}"]);
        }
        args.AddRange(["--stats-file", StatsFile(n)]);
        if (client)
        {
            args.AddRange(_volumeAtStart || _forced.Contains(n) ? ["--attach", Volume] : []);
            args.AddRange(["--nbd-listen", $"{Host(n)}:{_nbdPorts[n - 1]}"]);
            if (_resyncRate != null)
            {
                args.AddRange(["--resync-rate", _resyncRate]);
            }
        }
        if (_forced.Contains(n))
        {
            args.Add("--force-attach");
        }
        _nodes[n - 1] = ShoalProcess.StartWith($"n{n}", args, "shoal node ready", TimeSpan.FromMinutes(3), _network?.Namespace(n));
    }

    /// <summary>
    /// Waits until the cluster, as <paramref name="observer"/> sees it, no longer counts node <paramref name="n"/>: a
    /// node restarted on the same address joins only once its previous incarnation is downed and removed.
    /// </summary>
    public void WaitUntilRemoved(int n, int observer)
    {
        string address = AkkaAddress(n);
        long deadline = Environment.TickCount64 + 90_000;
        while (StaticCluster.Snapshot(Node(observer), StatsFile(observer)).GetProperty("counters").GetProperty("members")
            .EnumerateArray().Any(m => m.GetString()!.Contains(address, StringComparison.Ordinal)))
        {
            if (Environment.TickCount64 > deadline)
            {
                throw new TimeoutException($"n{n} was not removed from the cluster within 90 s");
            }
            Thread.Sleep(500);
        }
    }

    /// <summary>Waits for node n's process to end by itself; returns its exit code.</summary>
    public int WaitForExit(int n, TimeSpan timeout)
    {
        ShoalProcess node = Node(n);
        Assert.True(node.WaitForExit(timeout), $"n{n} did not stop within {timeout.TotalSeconds:0} s");
        _nodes[n - 1] = null;
        int code = node.ExitCode;
        node.Dispose();
        return code;
    }

    /// <summary>An orderly stop (SIGTERM: the node leaves the cluster, its shards hand over), as for an upgrade.</summary>
    public void Stop(int n)
    {
        ShoalProcess node = Node(n);
        node.Signal("TERM");
        Assert.True(node.WaitForExit(TimeSpan.FromSeconds(60)), $"n{n} did not stop within 60 s of SIGTERM");
        node.Dispose();
        _nodes[n - 1] = null;
    }

    public void Kill9(int n)
    {
        Node(n).Kill9();
        _nodes[n - 1]!.Dispose();
        _nodes[n - 1] = null;
    }

    /// <summary>The attached volume as a client's engine holds it: epoch and legs as "node/drive/segment:State" per group.</summary>
    public (ulong Epoch, string[][] Legs, long ResyncBytes) Volume1(int? client = null)
    {
        int n = client ?? Client;
        JsonElement v = StaticCluster.Snapshot(Node(n), StatsFile(n)).GetProperty("counters").GetProperty("volumes")[0];
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

    /// <summary>Requests the targets rejected (stale epoch, wrong writer, ...), summed over the running target nodes.</summary>
    public long TargetRejections() => Enumerable.Range(1, 3).Where(n => _nodes[n - 1] != null)
        .Sum(n => StaticCluster.Snapshot(Node(n), StatsFile(n)).GetProperty("counters").GetProperty("target").GetProperty("rejected").GetInt64());

    public void Signal(int n, string signal) => Node(n).Signal(signal);

    /// <summary>
    /// The rebuild checkpoints the volume entity holds (persisted), as the client node asked it: one per leg with a
    /// rebuild under way, or null when the entity did not answer in time (it is moving between nodes).
    /// </summary>
    public (int Group, int Leg, string Segment, string State, string Kind, long DoneBytes)[]? Rebuilds(int? client = null)
    {
        int n = client ?? Client;
        JsonElement rebuilds = StaticCluster.Snapshot(Node(n), StatsFile(n)).GetProperty("counters").GetProperty("volumes")[0].GetProperty("rebuilds");
        return rebuilds.ValueKind == JsonValueKind.Null ? null :
        [
            .. rebuilds.EnumerateArray().Select(r => (r.GetProperty("group").GetInt32(), r.GetProperty("leg").GetInt32(), r.GetProperty("segment").GetString()!,
                r.GetProperty("state").GetString()!, r.GetProperty("kind").GetString()!, r.GetProperty("doneBytes").GetInt64())),
        ];
    }

    /// <summary>How many regions a leg's write-intent bitmap names, read from the segment's metadata in its drive file.</summary>
    public int DirtyRegions(string leg)
    {
        // "n2/1/5:InSync" → node 2, drive 1, segment 5
        string[] parts = leg.Split(':')[0].Split('/');
        using var file = new FileStream(DrivePath(int.Parse(parts[0][1..], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture)),
            FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] block = new byte[Superblock.Size];
        file.ReadExactly(block);
        Assert.Equal(Superblock.Verdict.Valid, Superblock.TryDecode(block, out Superblock? super));
        byte[] meta = new byte[SegmentMeta.Size];
        ulong[] bitmap = new ulong[(super!.RegionsPerSegment + 63) / 64];
        // The target may be rewriting the block as we read it: a torn read is read again.
        for (int attempt = 0; ; attempt++)
        {
            file.Position = super.SegmentMetaOffset(int.Parse(parts[2], CultureInfo.InvariantCulture));
            file.ReadExactly(meta);
            if (SegmentMeta.TryDecode(meta, out _, out _, out _, out _, bitmap))
            {
                return bitmap.Sum(w => System.Numerics.BitOperations.PopCount(w));
            }
            Assert.True(attempt < 5, $"segment metadata of {leg} does not decode");
            Thread.Sleep(20);
        }
    }

    /// <summary>Reads each leg's segment straight from the drive files and asserts the legs of every group are identical.</summary>
    public void AssertLegsIdentical(string[][] legs)
    {
        for (int g = 0; g < legs.Length; g++)
        {
            byte[]? first = null;
            foreach (string leg in legs[g])
            {
                (string path, long offsetBytes, long segmentBytes) = LegData(leg);
                byte[] bytes = new byte[segmentBytes];
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                {
                    file.Position = offsetBytes;
                    file.ReadExactly(bytes);
                }
                first ??= bytes;
                Assert.True(first.AsSpan().SequenceEqual(bytes), $"group {g}: leg {leg} differs from {legs[g][0]}");
            }
        }
    }

    /// <summary>Where a leg's segment data lies in its drive file: the file, the data's offset and length in bytes.</summary>
    public (string DrivePath, long OffsetBytes, long SegmentBytes) LegData(string leg)
    {
        // "n2/1/5:InSync" → node 2, drive 1, segment 5
        string[] parts = leg.Split(':')[0].Split('/');
        string path = DrivePath(int.Parse(parts[0][1..], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
        (long offsetBytes, long segmentBytes) = SegmentData(path, int.Parse(parts[2], CultureInfo.InvariantCulture));
        return (path, offsetBytes, segmentBytes);
    }

    private static (long OffsetBytes, long SegmentBytes) SegmentData(string drivePath, int segment)
    {
        using var file = new FileStream(drivePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] block = new byte[Superblock.Size];
        file.ReadExactly(block);
        Assert.Equal(Superblock.Verdict.Valid, Superblock.TryDecode(block, out Superblock? super));
        return (super!.SegmentDataOffset(segment), super.SegmentBytes);
    }

    public string Logs() => string.Join("\n", _nodes.Where(n => n != null).SelectMany(n => n!.Lines.TakeLast(60).Select(l => $"[{n!.Label}] {l}")));

    public void Dispose()
    {
        for (int n = MaxNodes; n >= 1; n--)
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
