using System.Globalization;
using Shoal.Integration.Tests;

namespace Shoal.Browser.Tests;

/// <summary>
/// Real <c>shoal node</c> processes on loopback for the GUI to look at: n1 has every role (target, client and
/// management, so it serves the API and the GUI), n2… are targets. One node journals to SQLite; more share a
/// PostgreSQL database and list each other as seeds. Any node but n1 can be killed with SIGKILL.
/// </summary>
internal sealed class GuiCluster : IDisposable
{
    public sealed record Shape(int Nodes, int DrivesPerNode, string DriveSize, string SegmentSize, string Spread)
    {
        /// <summary>Seconds a dead node's drives stay offline before their legs are rebuilt elsewhere.</summary>
        public int OutAfterSeconds { get; init; } = 600;

        /// <summary>The client's resync and rebuild copy rate (shoal's size syntax).</summary>
        public string ResyncRate { get; init; } = "200MiB";
    }

    private readonly Shape _shape;
    private readonly string? _journal;
    private readonly int[] _akkaPorts;
    private readonly int[] _dataPorts;
    private readonly ShoalProcess?[] _nodes;

    /// <param name="journalConnection">null: SQLite (one node only); otherwise a PostgreSQL connection string</param>
    public GuiCluster(Shape shape, string? journalConnection)
    {
        if (shape.Nodes > 1 && journalConnection == null)
        {
            throw new ArgumentException("a multi-node cluster needs a PostgreSQL journal", nameof(journalConnection));
        }
        _shape = shape;
        _journal = journalConnection;
        _akkaPorts = [.. Enumerable.Range(0, shape.Nodes).Select(_ => Ports.Free())];
        _dataPorts = [.. Enumerable.Range(0, shape.Nodes).Select(_ => Ports.Free())];
        _nodes = new ShoalProcess?[shape.Nodes];
        NbdPort = Ports.Free();
        HttpPort = Ports.Free();
        Root = Directory.CreateTempSubdirectory("shoal-gui-").FullName;
        KeyFile = Path.Combine(Root, "cluster.key");
        Shoal.DataPath.Wire.ClusterKey.LoadOrCreate(KeyFile);
    }

    public string Root { get; }

    public string KeyFile { get; }

    public int NbdPort { get; }

    public int HttpPort { get; }

    public string GuiUrl => $"http://127.0.0.1:{HttpPort}/";

    public string ApiUrl => $"http://127.0.0.1:{HttpPort}/api/v1";

    /// <summary>The admin bearer token n1 wrote to its data directory on first start.</summary>
    public string AdminToken => File.ReadAllText(Path.Combine(DataDir(1), "admin.token")).Trim();

    public string NbdUri(string volume) => $"nbd://127.0.0.1:{NbdPort}/{volume}";

    public string DataDir(int n) => Path.Combine(Root, $"n{n}");

    public void StartAll() => Task.WaitAll([.. Enumerable.Range(1, _shape.Nodes).Select(n => Task.Run(() => Start(n)))]);

    public void Start(int n)
    {
        var args = new List<string>
        {
            "node", "start", "--name", $"n{n}", "--data-dir", DataDir(n), "--cluster-key-file", KeyFile,
            "--akka", $"127.0.0.1:{_akkaPorts[n - 1]}", "--segment-size", _shape.SegmentSize, "--spread", _shape.Spread,
            "--out-after", _shape.OutAfterSeconds.ToString(CultureInfo.InvariantCulture), "--sbr-stable-after", "5",
            "--data-listen", $"127.0.0.1:{_dataPorts[n - 1]}",
        };
        foreach (int port in _akkaPorts)
        {
            args.AddRange(["--seed", $"127.0.0.1:{port}"]);
        }
        if (_journal != null)
        {
            args.AddRange(["--journal", "postgresql", "--journal-connection", _journal]);
        }
        for (int d = 0; d < _shape.DrivesPerNode; d++)
        {
            args.AddRange(["--drive", Path.Combine(DataDir(n), $"d{d}.img") + "=" + _shape.DriveSize]);
        }
        if (n == 1)
        {
            args.AddRange(["--roles", "target,client,management", "--nbd-listen", $"127.0.0.1:{NbdPort}", "--http-listen", $"127.0.0.1:{HttpPort}",
                "--resync-rate", _shape.ResyncRate]);
        }
        else
        {
            args.AddRange(["--roles", "target"]);
        }
        _nodes[n - 1] = ShoalProcess.StartWith($"n{n}", args, "shoal node ready", TimeSpan.FromMinutes(2));
    }

    public void Kill9(int n)
    {
        if (n == 1)
        {
            throw new ArgumentException("n1 serves the GUI", nameof(n));
        }
        ShoalProcess node = _nodes[n - 1] ?? throw new InvalidOperationException($"n{n} is not running");
        node.Kill9();
        node.Dispose();
        _nodes[n - 1] = null;
    }

    public string Logs(int lines = 60) =>
        string.Join("\n", _nodes.Where(n => n != null).SelectMany(n => n!.Lines.TakeLast(lines).Select(l => $"[{n!.Label}] {l}")));

    public void Dispose()
    {
        for (int n = _nodes.Length; n >= 1; n--)
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
