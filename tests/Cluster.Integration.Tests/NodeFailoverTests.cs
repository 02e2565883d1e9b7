using Shoal.Actors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// The control plane with real processes: three converged <c>shoal node</c>s journaling to PostgreSQL, a mirror:2
/// volume under <c>fio --verify=crc32c</c>. kill -9 of a leg's node: I/O goes on once the leg is stale; the node
/// returns: delta resync, legs byte-identical, verify clean; the node stays down past out-after: its legs are
/// rebuilt in full on the other nodes, verify clean.
/// </summary>
public sealed class NodeFailoverTests(PostgresServer postgres, ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    /// <summary>Long enough for the first return (after the cluster removes the old incarnation, ~15 s) to be a delta resync.</summary>
    private const int OutAfterSeconds = 45;
    private static readonly TimeSpan s_fioTimeout = TimeSpan.FromMinutes(4);

    private static void Fio(string what, string[] args)
    {
        (int code, string text) = Tool.Run("fio", args, s_fioTimeout);
        Assert.True(code == 0, $"fio ({what}) failed:\n{text}");
    }

    [Fact]
    public void Kill_a_leg_node_under_fio_then_delta_resync_then_out_after_rebuild()
    {
        Tool.Require("fio");
        using var cluster = new NodeCluster(postgres.ConnectionString, OutAfterSeconds);
        try
        {
            Run(cluster);
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    private void Run(NodeCluster cluster)
    {
        cluster.StartAll();
        (ulong epoch, string[][] legs, _) = cluster.Volume1();
        output.WriteLine($"attached at epoch {epoch}: {string.Join(" | ", legs.Select(g => string.Join(",", g)))}");
        Assert.All(legs, g => Assert.Equal(2, g.Select(l => l.Split('/')[0]).Distinct().Count()));

        Fio("fill", Tool.FioVerify(cluster.NbdUri, "write", "128m", "1m", 4, name: "fill"));

        // A node other than the client's dies while fio writes with verification into groups 2 and 3 (32-64 MiB):
        // the victim holds a leg of one of them, so the writer meets the failure.
        int victim = legs.Skip(2).Take(2).SelectMany(g => g).Select(l => int.Parse(l[1..2], System.Globalization.CultureInfo.InvariantCulture)).First(n => n != 1);
        using (var fio = Tool.Start("fio", Tool.FioVerify(cluster.NbdUri, "randwrite", "32m", "4k", 8, offset: "32m", name: "under-failure")))
        {
            Task<string> fioOut = fio.StandardOutput.ReadToEndAsync();
            Task<string> fioErr = fio.StandardError.ReadToEndAsync();
            Thread.Sleep(1500);
            long killedAt = Environment.TickCount64;
            cluster.Kill9(victim);
            output.WriteLine($"killed n{victim}");
            Assert.True(fio.WaitForExit((int)s_fioTimeout.TotalMilliseconds), "fio did not finish after the node died");
            Assert.True(fio.ExitCode == 0, $"fio failed after n{victim} died:\n{fioOut.GetAwaiter().GetResult()}{fioErr.GetAwaiter().GetResult()}");
            output.WriteLine($"fio under failure finished {(Environment.TickCount64 - killedAt) / 1000.0:0.0} s after the kill");
        }
        (ulong degradedEpoch, string[][] degraded, long resyncBefore) = cluster.WaitForVolume(
            v => v.Legs.SelectMany(g => g).Where(l => l.StartsWith($"n{victim}/", StringComparison.Ordinal)).All(l => l.EndsWith(":Stale", StringComparison.Ordinal)),
            TimeSpan.FromMinutes(1), $"n{victim}'s legs stale");
        Assert.True(degradedEpoch > epoch);
        output.WriteLine($"degraded at epoch {degradedEpoch}");

        // It returns (once the cluster has removed its previous incarnation): only the regions written meanwhile are
        // copied, then every leg is in sync.
        cluster.WaitUntilRemoved(victim, observer: 1);
        cluster.Start(victim);
        (ulong healedEpoch, string[][] healed, long resyncAfter) = cluster.WaitForVolume(
            v => v.Legs.SelectMany(g => g).All(l => l.EndsWith(":InSync", StringComparison.Ordinal)), TimeSpan.FromMinutes(2), "every leg in sync after the return");
        long copied = resyncAfter - resyncBefore;
        output.WriteLine($"healed at epoch {healedEpoch}; delta resync copied {copied >> 20} MiB");
        // Usually exactly the 32 MiB written meanwhile; the engine copies a leg whole when it cannot read the returning
        // leg's intent bitmap at that moment (seen once in CI), which is slower but never wrong. The exact delta is
        // asserted by the data path's MirrorFailoverTests.
        Assert.True(copied > 0 && copied <= 128L << 20, $"the returning legs must be resynced; copied {copied} bytes");
        Fio("verify after resync", [.. Tool.FioVerify(cluster.NbdUri, "randwrite", "32m", "4k", 8, offset: "32m", name: "under-failure"), "--verify_only"]);
        cluster.AssertLegsIdentical(healed);

        // Down again, and past out-after: its legs move to the other nodes' drives with a full rebuild.
        cluster.Kill9(victim);
        Fio("write while down", Tool.FioVerify(cluster.NbdUri, "randwrite", "16m", "4k", 8, offset: "96m", name: "while-down"));
        (ulong movedEpoch, string[][] moved, _) = cluster.WaitForVolume(
            v => v.Legs.SelectMany(g => g).All(l => !l.StartsWith($"n{victim}/", StringComparison.Ordinal) && l.EndsWith(":InSync", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(OutAfterSeconds + 120), $"n{victim}'s legs rebuilt elsewhere");
        output.WriteLine($"rebuilt elsewhere at epoch {movedEpoch}: {string.Join(" | ", moved.Select(g => string.Join(",", g)))}");
        Assert.All(moved, g => Assert.Equal(2, g.Select(l => l.Split('/')[0]).Distinct().Count()));
        Fio("verify after rebuild (fill)", [.. Tool.FioVerify(cluster.NbdUri, "write", "32m", "1m", 4, name: "fill"), "--verify_only"]);
        Fio("verify after rebuild (while down)", [.. Tool.FioVerify(cluster.NbdUri, "randwrite", "16m", "4k", 8, offset: "96m", name: "while-down"), "--verify_only"]);
        cluster.AssertLegsIdentical(moved);
    }
}
