using System.Diagnostics;
using Shoal.Actors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// Fencing with real processes: three target nodes and a client-only node on a PostgreSQL journal. A stale leg is
/// never served even when it is the only leg left; a writer paused past downing and replaced by a forced attach
/// elsewhere has its writes rejected by the targets, and what was acknowledged stays intact.
/// </summary>
public sealed class NodeFencingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_fioTimeout = TimeSpan.FromMinutes(4);

    private static void Fio(string what, string[] args)
    {
        (int code, string text) = Tool.Run("fio", args, s_fioTimeout);
        Assert.True(code == 0, $"fio ({what}) failed:\n{text}");
    }

    private static int NodeOf(string leg) => int.Parse(leg[1..2], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Runs <paramref name="body"/> on a fresh cluster with a fresh journal database of its own.</summary>
    private void Run(Action<NodeCluster> body)
    {
        var postgres = new PostgresServer();
        postgres.InitializeAsync().GetAwaiter().GetResult();
        try
        {
            using var cluster = new NodeCluster(postgres.ConnectionString, outAfterSeconds: 600, client: 4);
            try
            {
                body(cluster);
            }
            catch
            {
                output.WriteLine(cluster.Logs());
                throw;
            }
        }
        finally
        {
            postgres.DisposeAsync().GetAwaiter().GetResult();
        }
    }

    [Fact]
    public void A_stale_leg_alone_is_never_served_and_resyncs_once_the_in_sync_leg_returns()
    {
        Tool.Require("fio");
        Run(c =>
        {
            c.StartAll();
            (_, string[][] legs, _) = c.Volume1();
            int a = NodeOf(legs[0][0]);
            int b = NodeOf(legs[0][1]);
            output.WriteLine($"group 0 on n{a} and n{b}: {string.Join(" | ", legs.Select(g => string.Join(",", g)))}");
            Fio("fill", Tool.FioVerify(c.NbdUri, "write", "128m", "1m", 4, name: "fill"));

            // A dies; group 0 is rewritten, so A's copy is stale.
            c.Kill9(a);
            Fio("write while A is down", Tool.FioVerify(c.NbdUri, "randwrite", "8m", "4k", 8, offset: "0", name: "while-a-down"));
            c.WaitForVolume(v => v.Legs[0][0].EndsWith(":Stale", StringComparison.Ordinal), TimeSpan.FromMinutes(1), "A's leg of group 0 stale");

            // B dies too (once A is out of the cluster, so the survivors stay a majority), and only A comes back:
            // group 0 has no in-sync leg that answers, so reads fail.
            c.WaitUntilRemoved(a, observer: 4);
            c.Kill9(b);
            c.Start(a);
            var failing = Stopwatch.StartNew();
            (int code, string text) = Tool.Run("fio", [.. Tool.FioVerify(c.NbdUri, "randwrite", "8m", "4k", 8, offset: "0", name: "while-a-down"), "--verify_only"], s_fioTimeout);
            output.WriteLine($"read with only the stale leg up: fio exit {code} after {failing.Elapsed.TotalSeconds:0.0} s");
            Assert.True(code != 0, $"reading group 0 with only its stale leg up must fail, not return stale data:\n{text}");
            (_, string[][] alone, _) = c.Volume1();
            Assert.NotEqual("InSync", alone[0][0].Split(':')[1]);

            // B returns: A resyncs from B, and everything reads back as written.
            c.WaitUntilRemoved(b, observer: 4);
            c.Start(b);
            (_, string[][] healed, _) = c.WaitForVolume(v => v.Legs.SelectMany(g => g).All(l => l.EndsWith(":InSync", StringComparison.Ordinal)),
                TimeSpan.FromMinutes(3), "every leg in sync after B returned");
            Fio("verify after B returned", [.. Tool.FioVerify(c.NbdUri, "randwrite", "8m", "4k", 8, offset: "0", name: "while-a-down"), "--verify_only"]);
            c.AssertLegsIdentical(healed);
        });
    }

    [Fact]
    public void A_writer_paused_past_downing_is_fenced_out_by_a_forced_attach_and_acknowledged_data_stays()
    {
        Tool.Require("fio");
        Run(c =>
        {
            c.StartAll();
            Fio("fill", Tool.FioVerify(c.NbdUri, "write", "128m", "1m", 4, name: "fill"));
            long rejectedBefore = c.TargetRejections();

            // The writer is frozen mid-write, long enough to be downed, and another node takes the volume over.
            using var zombie = Tool.Start("fio", Tool.FioVerify(c.NbdUri, "randwrite", "64m", "4k", 8, offset: "0", name: "zombie"));
            Task<string> zombieOut = zombie.StandardOutput.ReadToEndAsync();
            Task<string> zombieErr = zombie.StandardError.ReadToEndAsync();
            Thread.Sleep(1500);
            c.Signal(4, "STOP");
            output.WriteLine("n4 stopped");
            c.StartForcedClient(5);
            (ulong epoch, string[][] legs, _) = c.Volume1(client: 5);
            output.WriteLine($"n5 attached by force at epoch {epoch}");
            Fio("writes through the new writer", Tool.FioVerify(c.UriOf(5), "write", "16m", "1m", 4, offset: "96m", name: "takeover"));

            // The zombie wakes up: whatever it still sends carries the old epoch and writer.
            c.Signal(4, "CONT");
            Assert.True(zombie.WaitForExit((int)s_fioTimeout.TotalMilliseconds), "the zombie's fio did not end");
            output.WriteLine($"zombie fio exit {zombie.ExitCode}: {zombieOut.GetAwaiter().GetResult().Split('\n').LastOrDefault(l => l.Contains("err=", StringComparison.Ordinal))}{zombieErr.GetAwaiter().GetResult().Split('\n').FirstOrDefault()}");
            Assert.True(zombie.ExitCode != 0, "the fenced writer's I/O must fail");
            long rejected = c.TargetRejections() - rejectedBefore;
            output.WriteLine($"targets rejected {rejected} requests from the zombie");
            Assert.True(rejected > 0, "the targets must have rejected the zombie's writes");

            // What was acknowledged is intact: the fill beyond the zombie's range and the new writer's data.
            Fio("fill intact", [.. Tool.FioVerify(c.UriOf(5), "write", "32m", "1m", 4, offset: "64m", name: "fill"), "--verify_only"]);
            Fio("takeover intact", [.. Tool.FioVerify(c.UriOf(5), "write", "16m", "1m", 4, offset: "96m", name: "takeover"), "--verify_only"]);
        });
    }
}
