using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Shoal.Actors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// One row of the fault matrix: its own PostgreSQL database, namespaces and three converged <c>shoal node</c>s
/// (n1 the client exporting the mirror:2 volume of 8 groups over NBD on its bridge address). The common workload:
/// <c>fill</c> writes all 128 MiB with crc32c verification headers before the fault, <c>under-fault</c> rewrites
/// 32–64 MiB in 4 KiB random writes while the fault is on; after healing both are read back with
/// <c>--verify_only</c> (no acknowledged write lost) and the legs' segments are compared byte for byte in the drive
/// files. With <c>SHOAL_FAULTS_RESULTS</c> set, each row appends its outcome and measured time to heal to that file
/// (JSON lines) for <c>build.ps1 faults</c> to render into <c>docs/reliability.md</c>.
/// </summary>
internal sealed class FaultRow : IAsyncDisposable
{
    public const string ResultsVariable = "SHOAL_FAULTS_RESULTS";
    public const string UnderFaultOffset = "32m";
    private static readonly TimeSpan s_fioTimeout = TimeSpan.FromMinutes(5);
    private static readonly Lock s_resultsLock = new();
    private static readonly JsonSerializerOptions s_json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly PostgresServer _postgres;
    private readonly ITestOutputHelper _output;
    private readonly string _row;
    private readonly string _done;
    private readonly Stopwatch _elapsed = Stopwatch.StartNew();
    private readonly List<string> _notes = [];
    private long _healStartedTicks;

    private FaultRow(string row, string done, ITestOutputHelper output, PostgresServer postgres, FaultNetwork network, NodeCluster cluster)
    {
        _row = row;
        _done = done;
        _output = output;
        _postgres = postgres;
        Network = network;
        Cluster = cluster;
    }

    public FaultNetwork Network { get; }

    public NodeCluster Cluster { get; }

    /// <summary>Seconds from the end of the fault to every leg in sync; null until measured.</summary>
    public double? HealSeconds { get; private set; }

    /// <summary>Creates the row's database, namespaces and cluster (not started).</summary>
    /// <param name="volumeAtStart">false: the test creates the volume through the gateway (<see cref="StartCreateAndFill"/>)</param>
    public static async Task<FaultRow> CreateAsync(string row, string done, ITestOutputHelper output, int outAfterSeconds = 600, bool management = false, bool volumeAtStart = true)
    {
        Tool.Require("fio");
        var postgres = new PostgresServer();
        await postgres.InitializeAsync();
        FaultNetwork? network = null;
        try
        {
            network = new FaultNetwork(3, postgres.ConnectionString);
            var cluster = new NodeCluster(network.JournalConnection(postgres.ConnectionString), outAfterSeconds, management: management, network: network,
                volumeAtStart: volumeAtStart);
            return new FaultRow(row, done, output, postgres, network, cluster);
        }
        catch
        {
            network?.Dispose();
            await postgres.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs the row's body, records its outcome (a failure with its reason) and rethrows a failure.</summary>
    public void Run(Action body)
    {
        try
        {
            body();
            Record("pass", null);
        }
        catch (Exception e)
        {
            _output.WriteLine(Cluster.Logs());
            Record("FAIL", e.Message);
            throw;
        }
    }

    public void Note(string note)
    {
        _notes.Add(note);
        _output.WriteLine(note);
    }

    public void Log(string line) => _output.WriteLine($"[{_elapsed.Elapsed.TotalSeconds,6:0.0} s] {line}");

    /// <summary>Starts the nodes, checks the legs are spread over two nodes per group and fills the volume.</summary>
    public string[][] StartAndFill()
    {
        Cluster.StartAll();
        return AttachedAndFilled();
    }

    /// <summary>
    /// Starts the nodes, then creates the volume through the gateway once every node's drives are online and attaches
    /// it on n1, so its legs may use every node (a volume declared at start is placed on the drives its node has heard
    /// of by then, which may leave out a node still joining); then as <see cref="StartAndFill"/>.
    /// </summary>
    public string[][] StartCreateAndFill()
    {
        Cluster.StartAll();
        Cluster.CreateVolumeThroughGateway();
        (int code, string text) = Cluster.Cli("volume", "attach", NodeCluster.Volume, "--node", "n1");
        Assert.True(code == 0, text);
        Poll.Until(() => Cluster.Node(1).Lines.Any(l => l.Contains($"volume {NodeCluster.Volume}: attached on n1", StringComparison.Ordinal)),
            "n1's engine attached", TimeSpan.FromSeconds(30));
        return AttachedAndFilled();
    }

    private string[][] AttachedAndFilled()
    {
        (ulong epoch, string[][] legs, _) = Cluster.WaitForVolume(_ => true, TimeSpan.FromSeconds(30), "the attached volume in n1's stats");
        Log($"attached at epoch {epoch}: {Describe(legs)}");
        Assert.All(legs, g => Assert.Equal(2, g.Select(l => l.Split('/')[0]).Distinct().Count()));
        Fio("fill", Fill());
        return legs;
    }

    /// <summary>A node other than the client (n1) holding a leg of a group under-fault writes to.</summary>
    public static int VictimOf(string[][] legs) =>
        legs.Skip(2).Take(2).SelectMany(g => g).Select(NodeOf).First(n => n != 1);

    public static int NodeOf(string leg) => int.Parse(leg.Split('/')[0][1..], CultureInfo.InvariantCulture);

    public static string Describe(string[][] legs) => string.Join(" | ", legs.Select(g => string.Join(",", g)));

    public string[] Fill(string size = "128m", string offset = "0") => Tool.FioVerify(Cluster.NbdUri, "write", size, "1m", 4, offset: offset, name: "fill");

    public string[] UnderFault() => Tool.FioVerify(Cluster.NbdUri, "randwrite", "32m", "4k", 8, offset: UnderFaultOffset, name: "under-fault");

    public void Fio(string what, string[] args)
    {
        (int code, string text) = Tool.Run("fio", args, s_fioTimeout);
        Assert.True(code == 0, $"fio ({what}) failed:\n{text}");
        Log($"fio {what}: clean");
    }

    /// <summary>Starts fio in the background; <see cref="RunningFio.Finish"/> asserts it ended clean.</summary>
    public RunningFio StartFio(string what, string[] args) => new(what, Tool.Start("fio", args), s_fioTimeout);

    /// <summary>Marks the end of the fault: the time to heal counts from here.</summary>
    public void HealStarted() => _healStartedTicks = Environment.TickCount64;

    public double SinceHeal() => (Environment.TickCount64 - _healStartedTicks) / 1000.0;

    /// <summary>
    /// Waits until every leg is in sync on two distinct nodes per group and records the time since
    /// <see cref="HealStarted"/> as the time to heal.
    /// </summary>
    public string[][] WaitHealed(TimeSpan timeout)
    {
        Assert.True(_healStartedTicks > 0, "HealStarted was not called");
        (ulong epoch, string[][] legs, long resync) = Cluster.WaitForVolume(
            v => v.Legs.All(g => g.All(l => l.EndsWith(":InSync", StringComparison.Ordinal)) && g.Select(l => l.Split('/')[0]).Distinct().Count() == g.Length),
            timeout, "every leg in sync after healing");
        HealSeconds = SinceHeal();
        Log($"healed {HealSeconds:0.0} s after the fault ended, epoch {epoch}, resync copied {resync >> 20} MiB in all: {Describe(legs)}");
        return legs;
    }

    /// <summary>Restarts node n once the cluster has removed its previous incarnation, then waits as <see cref="WaitHealed"/>.</summary>
    public string[][] RestartAndWaitHealed(int n, TimeSpan timeout)
    {
        Cluster.WaitUntilRemoved(n, observer: 1);
        Cluster.Start(n);
        Log($"n{n} restarted");
        return WaitHealed(timeout);
    }

    /// <summary>Reads back what was acknowledged (fill around the under-fault range, under-fault) and compares the legs.</summary>
    public void VerifyAfterHeal(string[][] legs, bool underFaultAcknowledged = true)
    {
        Fio("verify fill 0-32 MiB", [.. Fill("32m"), "--verify_only"]);
        Fio("verify fill 64-128 MiB", [.. Fill("64m", "64m"), "--verify_only"]);
        if (underFaultAcknowledged)
        {
            Fio("verify under-fault 32-64 MiB", [.. UnderFault(), "--verify_only"]);
        }
        Cluster.AssertLegsIdentical(legs);
        Log("legs byte-identical");
    }

    private void Record(string result, string? error)
    {
        string? path = Environment.GetEnvironmentVariable(ResultsVariable);
        string line = JsonSerializer.Serialize(new
        {
            row = _row,
            done = _done,
            result,
            healSeconds = HealSeconds is { } h ? Math.Round(h, 1) : (double?)null,
            notes = string.Join("; ", _notes),
            error = error == null ? null : Summary(error),
            totalSeconds = Math.Round(_elapsed.Elapsed.TotalSeconds, 0),
        }, s_json);
        _output.WriteLine($"row result: {line}");
        if (!string.IsNullOrEmpty(path))
        {
            lock (s_resultsLock)
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }

    /// <summary>A failure's first line and, when it has more, its first line naming what went wrong (fio's verify error).</summary>
    private static string Summary(string error)
    {
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string? detail = lines.Skip(1).FirstOrDefault(l => l.Contains("bad", StringComparison.OrdinalIgnoreCase) || l.Contains("error", StringComparison.OrdinalIgnoreCase));
        return detail == null ? lines[0] : $"{lines[0]} {(detail.Length > 200 ? detail[..200] : detail)}";
    }

    public async ValueTask DisposeAsync()
    {
        Cluster.Dispose();
        Network.Dispose();
        // A tmpfs mounted inside the cluster's directory kept NodeCluster from deleting it; it is unmounted now.
        if (Directory.Exists(Cluster.Root))
        {
            try
            {
                Directory.Delete(Cluster.Root, recursive: true);
            }
            catch (IOException)
            {
                // left for the OS's temp cleanup
            }
        }
        await _postgres.DisposeAsync();
    }
}
