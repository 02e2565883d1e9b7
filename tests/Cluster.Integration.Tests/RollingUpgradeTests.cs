using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Shoal.Actors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// A rolling upgrade with real processes (docs/adr/0005-rolling-upgrades.md): three converged <c>shoal node</c>s on a
/// PostgreSQL journal, n1 and n2 also management nodes, n3 started at the previous wire protocol (<c>--wire-protocol 1</c>,
/// as a node not yet upgraded, until its own restart brings it back at v2), a mirror:2 volume attached on n1 as a block
/// device on this host (<c>shoal attach --device fuse-loop</c>) under fio with crc32c verification the whole time.
/// Every node is restarted in turn, in the order <c>shoal upgrade plan</c> gives (n1, the client and the gateway asked,
/// last, through n2's gateway): maintenance on, an orderly stop, offline for longer than out-after (the drives must stay
/// offline, never out), refusals while it is away, start, <c>maintenance off --wait</c> (drives online, delta resync
/// done). fio sees no error (the attach helper holds its I/O while n1 restarts), every resync is a delta of the same
/// segments (no leg replaced, no full rebuild), and the legs end byte-identical.
/// </summary>
public sealed partial class RollingUpgradeTests(PostgresServer postgres, ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    /// <summary>Short, so a restart outlasts it: without maintenance the drives would go out and their legs be rebuilt elsewhere.</summary>
    private const int OutAfterSeconds = 12;

    /// <summary>The node started at the previous wire protocol version.</summary>
    private const int PreviousVersionNode = 3;

    /// <summary>A round through FUSE and the loop device, held while the client node restarts, takes longer than over NBD.</summary>
    private static readonly TimeSpan s_fioTimeout = TimeSpan.FromMinutes(4);

    [GeneratedRegex(@"resync-start volume=\S+ group=(\d+) leg=(\d+) fromBytes=(\S+)")]
    private static partial Regex ResyncStart();

    [Fact]
    public void Every_node_restarted_in_plan_order_under_fio_on_an_attached_block_device_with_maintenance_and_delta_resync()
    {
        Tool.Require("fio");
        // n3 runs "the previous version" until its turn in the upgrade, when it comes back at the current one.
        var previous = new HashSet<int> { PreviousVersionNode };
        // n2 serves a gateway too: the operator's way in while n1 (client and first gateway) restarts.
        using var cluster = new NodeCluster(postgres.ConnectionString, OutAfterSeconds, management: true,
            extraArgs: n => previous.Contains(n) ? ["--wire-protocol", "1"] : [], volumeAtStart: false, managementNodes: 2);
        using var host = new AttachedBlockDevice();
        try
        {
            Run(cluster, host, previous);
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            output.WriteLine(host.HelperLog(NodeCluster.Volume));
            throw;
        }
    }

    private void Run(NodeCluster cluster, AttachedBlockDevice host, HashSet<int> previous)
    {
        var clock = Stopwatch.StartNew();
        cluster.StartAll();
        using HttpClient http = Gateway(cluster, 1);
        // The volume is made once every node's drives are online, so its legs spread over all three nodes.
        cluster.CreateVolumeThroughGateway();
        // The application's view: a block device on this host (FUSE file over NBD to n1's export, bound to a loop
        // device), which holds I/O while n1 itself restarts.
        (int code, string text) = cluster.Cli("attach", NodeCluster.Volume, "--node", "n1", "--device", "fuse-loop", "--io-timeout", "300s", "--run-dir", host.RunDir);
        Assert.True(code == 0, text);
        string device = text.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("/dev/loop", StringComparison.Ordinal));
        (_, string[][] legs, _) = cluster.Volume1();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: attached: {string.Join(" | ", legs.Select(g => string.Join(",", g)))}");
        string[] segments = [.. legs.SelectMany(g => g).Select(l => l.Split(':')[0]).Order()];
        Assert.Contains(segments, s => s.StartsWith("n2/", StringComparison.Ordinal));
        Assert.Contains(segments, s => s.StartsWith("n3/", StringComparison.Ordinal));

        // n1's client links negotiated the highest version each target speaks: v1 with the node pinned to the previous one.
        Assert.Contains("wire-protocol=1", cluster.Node(PreviousVersionNode).WaitForLine("shoal node ready", TimeSpan.FromSeconds(1)), StringComparison.Ordinal);
        cluster.Node(1).WaitForLine($"link n{PreviousVersionNode} (", TimeSpan.FromSeconds(30), l => l.Contains("connected (wire protocol v1)", StringComparison.Ordinal));
        cluster.Node(1).WaitForLine("link n2 (", TimeSpan.FromSeconds(30), l => l.Contains("connected (wire protocol v2)", StringComparison.Ordinal));

        using var fio = new FioLoop(device);
        fio.WaitForRounds(1, s_fioTimeout);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: fio running");

        using JsonDocument plan = Get(http, "upgrade/plan");
        string[] order = [.. plan.RootElement.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("node").GetString()!)];
        output.WriteLine($"plan: {string.Join(" → ", order)}");
        Assert.Equal(["n1", "n2", "n3"], order.Order());
        Assert.Equal("n1", order[^1]);
        Assert.All(plan.RootElement.GetProperty("steps").EnumerateArray(), s => Assert.Empty(s.GetProperty("refusals").EnumerateArray()));

        var resyncs = new List<string>();
        foreach (string node in order)
        {
            int n = int.Parse(node[1..], CultureInfo.InvariantCulture);
            if (n == cluster.Client)
            {
                // The client's own restart ends its process: keep what it logged of the resyncs so far.
                resyncs.AddRange(cluster.Node(n).Lines.Where(l => ResyncStart().IsMatch(l)));
            }
            Restart(cluster, n, segments, clock, previous);
            fio.AssertClean();
        }

        int rounds = fio.Stop();
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: fio: {rounds} verified rounds, no errors");
        fio.AssertClean();
        Assert.True(rounds >= 3, $"fio ran only {rounds} rounds during the upgrade");

        // Every resync on the client was a delta of a returning leg (a full rebuild logs the offset it starts from).
        resyncs.AddRange(cluster.Node(1).Lines.Where(l => ResyncStart().IsMatch(l)));
        output.WriteLine($"{resyncs.Count} resyncs");
        Assert.NotEmpty(resyncs);
        Assert.All(resyncs, l => Assert.Equal("delta", ResyncStart().Match(l).Groups[3].Value));
        (_, string[][] final, _) = cluster.WaitForVolume(
            v => v.Legs.SelectMany(g => g).All(l => l.EndsWith(":InSync", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "every leg in sync at the end");
        Assert.Equal(segments, final.SelectMany(g => g).Select(l => l.Split(':')[0]).Order());
        cluster.AssertLegsIdentical(final);

        (code, text) = cluster.Cli("detach", NodeCluster.Volume, "--run-dir", host.RunDir);
        Assert.True(code == 0, text);
        Assert.Empty(host.LoopDevices());
    }

    /// <summary>
    /// One step of the plan for a target node: maintenance on, stop, away past out-after, start at the current wire
    /// version (the "new binary"), maintenance off --wait; the client's link to it then runs at v2.
    /// </summary>
    private void Restart(NodeCluster cluster, int n, string[] segments, Stopwatch clock, HashSet<int> previous)
    {
        string node = $"n{n}";
        bool client = n == cluster.Client;
        // The client is also the first gateway: its own step goes through n2's.
        int gateway = client ? 2 : 1;
        using HttpClient http = Gateway(cluster, gateway);
        Func<string[], (int, string)> cli = args => cluster.CliVia(gateway, args);
        int v2Links = client ? 0 : cluster.Node(1).Lines.Count(l => l.Contains($"link {node} (", StringComparison.Ordinal) && l.Contains("connected (wire protocol v2)", StringComparison.Ordinal));
        (int code, string text) = cli(["node", "maintenance", node, "on"]);
        Assert.True(code == 0, text);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {text.Trim()}");
        Assert.All(Drives(http, node), d => Assert.True(d.Maintenance, $"drive on {node} not in maintenance"));

        cluster.Stop(n);
        long stoppedAt = clock.ElapsedMilliseconds;
        Poll.Until(() => Drives(http, node).All(d => d.Status == "offline"), $"{node}'s drives offline", TimeSpan.FromSeconds(60));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {node} stopped, its drives offline");
        // While it is away: leaving maintenance is refused.
        (code, text) = cli(["node", "maintenance", node, "off"]);
        Assert.True(code == 1 && text.Contains("back online", StringComparison.Ordinal), text);
        // With the client away nobody writes, so no leg goes stale; with a target away the client's legs on it do, and
        // a second node whose group would lose its last in-sync leg is refused.
        (_, string[][] degraded, _) = client ? (0UL, [], 0L) : cluster.WaitForVolume(
            v => v.Legs.SelectMany(g => g).Where(l => l.StartsWith(node + "/", StringComparison.Ordinal)).All(l => l.EndsWith(":Stale", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), $"{node}'s legs stale");
        foreach (int other in client ? [] : new[] { 1, 2, 3 }.Where(o => o != n))
        {
            // Groups with a leg on each of the two: the other node holds their only in-sync leg now.
            int[] sole = [.. Enumerable.Range(0, degraded.Length).Where(g =>
                degraded[g].Any(l => l.StartsWith(node + "/", StringComparison.Ordinal)) && degraded[g].Any(l => l.StartsWith($"n{other}/", StringComparison.Ordinal)))];
            (code, text) = cluster.Cli("node", "maintenance", $"n{other}", "on");
            output.WriteLine($"maintenance n{other} on while {node} is away (groups {string.Join(",", sole)} exposed): {text.Trim()}");
            if (sole.Length == 0)
            {
                Assert.True(code == 0, text);
                (code, text) = cluster.Cli("node", "maintenance", $"n{other}", "off");
                Assert.True(code == 0, text);
                continue;
            }
            Assert.True(code == 1, $"n{other} went into maintenance while {node} is away: {text}");
            Assert.Contains("409", text, StringComparison.Ordinal);
            Assert.All(sole, g => Assert.Contains($"volume {NodeCluster.Volume} group {g}: its only in-sync leg is on node n{other}", text, StringComparison.Ordinal));
        }

        // Offline longer than out-after: held. The drives never turn out, so no leg is replaced.
        while (clock.ElapsedMilliseconds - stoppedAt < (OutAfterSeconds + 6) * 1000L)
        {
            Assert.All(Drives(http, node), d => Assert.True(d.Status == "offline", $"drive on {node} is {d.Status} while in maintenance"));
            Thread.Sleep(500);
        }

        cluster.WaitUntilRemoved(n, observer: client ? 2 : 1);
        previous.Remove(n);
        cluster.Start(n);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {node} started after {(clock.ElapsedMilliseconds - stoppedAt) / 1000.0:0.0} s away");
        (code, text) = cli(["node", "maintenance", node, "off", "--wait", "--timeout", "120"]);
        Assert.True(code == 0, text);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: {text.Trim().Replace("\n", " / ", StringComparison.Ordinal)}");
        Assert.All(Drives(http, node), d => Assert.True(d.Status == "online" && !d.Maintenance, $"drive on {node}: {d.Status}, maintenance {d.Maintenance}"));
        // The client's engine reports its layout once it has attached again (the node remembers the attachment).
        (_, string[][] healed, _) = cluster.WaitForVolume(v => v.Legs.SelectMany(g => g).All(l => l.EndsWith(":InSync", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), $"every leg in sync after {node}'s return");
        Assert.Equal(segments, healed.SelectMany(g => g).Select(l => l.Split(':')[0]).Order());
        Assert.True(client || cluster.Node(1).Lines.Count(l => l.Contains($"link {node} (", StringComparison.Ordinal) && l.Contains("connected (wire protocol v2)", StringComparison.Ordinal)) > v2Links,
            $"n1's link to the upgraded {node} did not reconnect at wire protocol v2");
    }

    private static HttpClient Gateway(NodeCluster cluster, int n)
    {
        var http = new HttpClient { BaseAddress = new Uri(cluster.ApiUrlOf(n) + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadAllText(cluster.AdminTokenFileOf(n)).Trim());
        return http;
    }

    private static JsonDocument Get(HttpClient http, string path)
    {
        using HttpResponseMessage response = http.GetAsync(path).GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    private static (string Node, string Status, bool Maintenance)[] AllDrives(HttpClient http)
    {
        using JsonDocument drives = Get(http, "drives");
        return [.. drives.RootElement.EnumerateArray().Select(d =>
            (d.GetProperty("node").GetString()!, d.GetProperty("status").GetString()!, d.GetProperty("maintenanceSince").ValueKind != JsonValueKind.Null))];
    }

    private static (string Node, string Status, bool Maintenance)[] Drives(HttpClient http, string node)
    {
        (string Node, string Status, bool Maintenance)[] own = [.. AllDrives(http).Where(d => d.Node == node)];
        Assert.Equal(2, own.Length);
        return own;
    }


    /// <summary>
    /// fio jobs one after another on a background thread until stopped: 16 KiB direct random writes at queue depth 8 over
    /// the whole block device (every group, so every leg's node is written to while it is away), each job verifying what it
    /// wrote (crc32c, fatal on the first bad block). Any failed job is kept.
    /// </summary>
    private sealed class FioLoop : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentQueue<string> _failures = new();
        private readonly Task _loop;
        private int _rounds;

        public FioLoop(string device)
        {
            _loop = Task.Run(() =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    (int code, string text) = Tool.Run("fio",
                    [
                        "--name=upgrade", $"--filename={device}", "--ioengine=libaio", "--direct=1", "--rw=randwrite", "--bs=16k",
                        $"--size={NodeCluster.VolumeSize.Replace("MiB", "m", StringComparison.Ordinal)}", "--iodepth=8",
                        "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--randrepeat=0",
                    ], s_fioTimeout);
                    if (code != 0)
                    {
                        _failures.Enqueue($"round {_rounds + 1}: exit {code}\n{text}");
                        return;
                    }
                    Interlocked.Increment(ref _rounds);
                }
            });
        }

        public void WaitForRounds(int rounds, TimeSpan timeout)
        {
            long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (Volatile.Read(ref _rounds) < rounds)
            {
                AssertClean();
                Assert.True(Environment.TickCount64 < deadline, $"fio finished {_rounds} of {rounds} rounds in {timeout.TotalSeconds:0} s");
                Thread.Sleep(100);
            }
        }

        public void AssertClean() => Assert.True(_failures.IsEmpty, "fio failed during the upgrade: " + string.Join("\n", _failures));

        /// <summary>Lets the running job finish (it verifies too) and returns how many jobs completed.</summary>
        public int Stop()
        {
            _stop.Cancel();
            Assert.True(_loop.Wait(s_fioTimeout), "the last fio round did not finish");
            return Volatile.Read(ref _rounds);
        }

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait(s_fioTimeout);
            _stop.Dispose();
        }
    }
}
