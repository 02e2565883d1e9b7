using System.Globalization;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// The fault matrix across hosts (see <c>docs/reliability.md</c>): three <c>shoal node</c>s, each in its own network
/// namespace on a bridge, journaling to PostgreSQL through the bridge, n1 the client exporting a mirror:2 volume
/// under <c>fio --verify=crc32c</c>. Each row injects one fault, heals it, and asserts fio verify clean, no
/// acknowledged write lost, legs byte-identical, and prints the time to heal (end of the fault to every leg in sync).
/// Trait <c>Faults=subset</c> runs in <c>build.ps1 test</c>; <c>Faults=matrix</c> only in <c>build.ps1 faults</c>.
/// Rows 6 and 7 need checksums at rest (branch <c>checksums</c>): until it is merged they are expected to fail.
/// </summary>
public sealed class FaultMatrixTests(ITestOutputHelper output)
{
    private const string Subset = "subset";
    private const string Matrix = "matrix";
    private static readonly TimeSpan s_healTimeout = TimeSpan.FromMinutes(3);

    private enum Cut
    {
        BothWays,
        Requests,
        Replies,
    }

    [Fact, Trait("Faults", Subset)]
    public async Task Row1_client_target_partition_both_ways()
    {
        await using FaultRow row = await FaultRow.CreateAsync("1. client↔target partition, both ways",
            "iptables DROP in the client's namespace of everything to and from one target's data port while fio writes; healed once that target's legs are stale", output);
        row.Run(() => Partition(row, Cut.BothWays));
    }

    [Fact, Trait("Faults", Matrix)]
    public async Task Row2a_client_to_target_requests_dropped()
    {
        await using FaultRow row = await FaultRow.CreateAsync("2a. one way: client→target dropped",
            "iptables DROP of the client's packets to one target's data port (the target's replies would pass); healed once its legs are stale", output);
        row.Run(() => Partition(row, Cut.Requests));
    }

    [Fact, Trait("Faults", Matrix)]
    public async Task Row2b_target_to_client_replies_dropped()
    {
        await using FaultRow row = await FaultRow.CreateAsync("2b. one way: target→client dropped",
            "iptables DROP in the target's namespace of its data port's packets to the client (requests arrive and are executed, replies are lost); healed once its legs are stale", output);
        row.Run(() => Partition(row, Cut.Replies));
    }

    private void Partition(FaultRow row, Cut cut)
    {
        NodeCluster cluster = row.Cluster;
        string[][] legs = row.StartAndFill();
        int victim = FaultRow.VictimOf(legs);
        string port = cluster.DataPort(victim).ToString(CultureInfo.InvariantCulture);
        using (RunningFio fio = row.StartFio("under-fault", row.UnderFault()))
        {
            if (cut is Cut.BothWays or Cut.Requests)
            {
                row.Network.Drop(1, "OUTPUT", "-d", cluster.Host(victim), "-p", "tcp", "--dport", port);
            }
            if (cut is Cut.BothWays)
            {
                row.Network.Drop(1, "INPUT", "-s", cluster.Host(victim), "-p", "tcp", "--sport", port);
            }
            if (cut is Cut.Replies)
            {
                row.Network.Drop(victim, "OUTPUT", "-d", cluster.Host(1), "-p", "tcp", "--sport", port);
            }
            long cutAt = Environment.TickCount64;
            row.Log($"cut ({cut}) between the client n1 and n{victim}'s data port {port}");
            fio.Finish();
            row.Note($"fio under the cut finished {(Environment.TickCount64 - cutAt) / 1000.0:0.0} s after it");
        }
        WaitStale(row, victim, groups: [2, 3]);
        long dropped = row.Network.Dropped(cut is Cut.Replies ? victim : 1);
        Assert.True(dropped > 0, "the iptables rules dropped nothing: the fault did not bite");
        row.Network.HealAll();
        long healedAt = Environment.TickCount64;
        row.Log($"healed ({dropped} packets dropped)");
        string[][] healed = row.WaitHealed(healedAt, s_healTimeout);
        row.Note($"{dropped} packets dropped; the legs came back on n{victim}: {healed.SelectMany(g => g).Count(l => FaultRow.NodeOf(l) == victim)}");
        row.VerifyAfterHeal(healed);
    }

    [Fact, Trait("Faults", Matrix)]
    public async Task Row3_majority_minority_partition_of_the_akka_cluster()
    {
        await using FaultRow row = await FaultRow.CreateAsync("3. majority/minority Akka partition",
            "iptables DROP of every packet to or from the Akka ports in n3's namespace (data path untouched) while fio writes; n3 is downed by keep-majority SBR and stops; healed, restarted, it rejoins", output);
        row.Run(() =>
        {
            NodeCluster cluster = row.Cluster;
            row.StartAndFill();
            const int Minority = 3;
            using (RunningFio fio = row.StartFio("under-fault", row.UnderFault()))
            {
                for (int n = 1; n <= 3; n++)
                {
                    string port = cluster.AkkaPort(n).ToString(CultureInfo.InvariantCulture);
                    (string outward, string inward) = n == Minority ? ("--sport", "--dport") : ("--dport", "--sport");
                    row.Network.Drop(Minority, "OUTPUT", "-p", "tcp", outward, port);
                    row.Network.Drop(Minority, "INPUT", "-p", "tcp", inward, port);
                }
                long cutAt = Environment.TickCount64;
                row.Log("n3 cut off from n1 and n2 at the Akka ports");
                int code = cluster.WaitForExit(Minority, TimeSpan.FromMinutes(2));
                row.Note($"n3 (minority) stopped by itself {(Environment.TickCount64 - cutAt) / 1000.0:0.0} s after the cut, exit code {code}");
                fio.Finish();
            }
            WaitStale(row, Minority, groups: null);
            row.Network.HealAll();
            long healedAt = Environment.TickCount64;
            cluster.WaitUntilRemoved(Minority, observer: 1);
            cluster.Start(Minority);
            row.Log("n3 restarted");
            string[][] healed = row.WaitHealed(healedAt, s_healTimeout);
            row.Note("heal time includes n3's restart and rejoin");
            row.VerifyAfterHeal(healed);
        });
    }

    [Fact, Trait("Faults", Matrix)]
    public async Task Row4_journal_unreachable_for_60_s()
    {
        await using FaultRow row = await FaultRow.CreateAsync("4. journal unreachable 60 s",
            "iptables DROP of every node's packets to PostgreSQL for 60 s while fio writes and reads; then kill -9 of a leg's node, which needs a persisted decision (leg stale), and its restart", output);
        row.Run(() =>
        {
            NodeCluster cluster = row.Cluster;
            string[][] legs = row.StartAndFill();
            string port = row.Network.JournalPort.ToString(CultureInfo.InvariantCulture);
            for (int n = 1; n <= 3; n++)
            {
                row.Network.Drop(n, "OUTPUT", "-d", FaultNetwork.BridgeAddress, "-p", "tcp", "--dport", port);
            }
            long cutAt = Environment.TickCount64;
            row.Log("journal cut off from every node");
            row.Fio("under-fault (journal down)", row.UnderFault());
            int reads = 0;
            while (Environment.TickCount64 - cutAt < 60_000)
            {
                row.Fio("read fill while the journal is down", [.. row.Fill("32m"), "--verify_only"]);
                reads++;
            }
            for (int n = 1; n <= 3; n++)
            {
                Assert.False(cluster.Node(n).Exited, $"n{n} stopped while the journal was unreachable");
            }
            long dropped = Enumerable.Range(1, 3).Sum(row.Network.Dropped);
            row.Network.HealAll();
            long healedAt = Environment.TickCount64;
            row.Log($"journal back after {(healedAt - cutAt) / 1000.0:0.0} s ({dropped} packets dropped, {reads} verify reads)");

            // The control plane must take decisions again without restarts: a leg's node dies under writes.
            int victim = FaultRow.VictimOf(legs);
            cluster.Kill9(victim);
            row.Fio("under-fault after the journal returned (a leg's node killed)", row.UnderFault());
            WaitStale(row, victim, groups: [2, 3]);
            row.Note($"journal dropped {dropped} packets; after it returned, the control plane marked n{victim}'s legs stale (a persisted decision) {(Environment.TickCount64 - healedAt) / 1000.0:0.0} s later");
            cluster.WaitUntilRemoved(victim, observer: 1);
            cluster.Start(victim);
            string[][] healed = row.WaitHealed(healedAt, s_healTimeout);
            row.Note("heal time includes a kill -9 and restart of a leg's node after the journal returned");
            row.VerifyAfterHeal(healed);
        });
    }

    [Fact, Trait("Faults", Matrix)]
    public async Task Row5_target_drive_full()
    {
        await using FaultRow row = await FaultRow.CreateAsync("5. target drive full",
            "n2's two 256 MiB sparse drive files on a 40 MiB tmpfs: its writes get ENOSPC during the fill and under-fault writes; healed by growing the tmpfs to 600 MiB", output);
        row.Run(() =>
        {
            NodeCluster cluster = row.Cluster;
            const int Full = 2;
            row.Network.MountTmpfs(Path.Combine(cluster.Root, $"n{Full}"), "40m");
            string[][] legs = row.StartAndFill();
            row.Fio("under-fault", row.UnderFault());
            (_, string[][] degraded, _) = cluster.WaitForVolume(v => v.Legs.SelectMany(g => g).Any(l => FaultRow.NodeOf(l) == Full && !l.EndsWith(":InSync", StringComparison.Ordinal)),
                TimeSpan.FromMinutes(1), $"a leg on n{Full}'s full drive out of sync");
            row.Log($"degraded: {FaultRow.Describe(degraded)}");
            Assert.False(cluster.Node(Full).Exited, $"n{Full} stopped when its drive filled up");
            row.Network.ResizeTmpfs(Path.Combine(cluster.Root, $"n{Full}"), "600m");
            long healedAt = Environment.TickCount64;
            string[][] healed = row.WaitHealed(healedAt, s_healTimeout);
            row.Note($"{degraded.SelectMany(g => g).Count(l => !l.EndsWith(":InSync", StringComparison.Ordinal))} of n{Full}'s legs went out of sync; healed legs on n{Full}: {healed.SelectMany(g => g).Count(l => FaultRow.NodeOf(l) == Full)} (were {legs.SelectMany(g => g).Count(l => FaultRow.NodeOf(l) == Full)})");
            row.VerifyAfterHeal(healed);
        });
    }

    [Fact, Trait("Faults", Matrix)]
    public async Task Row6_bytes_flipped_in_a_stopped_targets_segment()
    {
        await using FaultRow row = await FaultRow.CreateAsync("6. bytes flipped at rest",
            "a leg's target stopped (SIGTERM), 64 bytes inverted inside a written 4 KiB block of that leg's segment in its drive file, target restarted; everything read back, then 'shoal volume scrub vol1 --wait'. Needs checksums at rest (branch checksums)", output, management: true);
        row.Run(() => CorruptAtRest(row, (file, dataOffset) =>
        {
            long at = dataOffset + (5L << 20) + 1000;
            byte[] bytes = new byte[64];
            file.Position = at;
            file.ReadExactly(bytes);
            for (int i = 0; i < bytes.Length; i++)
            {
                bytes[i] ^= 0xFF;
            }
            file.Position = at;
            file.Write(bytes);
            return $"64 bytes inverted at segment offset {at - dataOffset}";
        }));
    }

    [Fact, Trait("Faults", Matrix)]
    public async Task Row7_misdirected_write_a_block_copied_over_another()
    {
        await using FaultRow row = await FaultRow.CreateAsync("7. misdirected write",
            "a leg's target stopped (SIGTERM), a written 4 KiB block copied over another block of the same leg's segment in its drive file, target restarted; everything read back, then 'shoal volume scrub vol1 --wait'. Needs checksums at rest (branch checksums)", output, management: true);
        row.Run(() => CorruptAtRest(row, (file, dataOffset) =>
        {
            byte[] block = new byte[4096];
            file.Position = dataOffset + (2L << 20);
            file.ReadExactly(block);
            file.Position = dataOffset + (7L << 20);
            file.Write(block);
            return "the block at segment offset 2 MiB copied over the one at 7 MiB";
        }));
    }

    /// <summary>
    /// Corrupts a leg of group 6 (96–112 MiB, filled, not rewritten under the fault) while its target is stopped, writes
    /// under-fault meanwhile, restarts it, reads every block back (reads are balanced over the legs, so twice), scrubs
    /// through the CLI and checks the legs are identical again.
    /// </summary>
    private void CorruptAtRest(FaultRow row, Func<FileStream, long, string> corrupt)
    {
        const int Group = 6;
        NodeCluster cluster = row.Cluster;
        string[][] legs = row.StartAndFill();
        string leg = legs[Group].First(l => FaultRow.NodeOf(l) != 1);
        int victim = FaultRow.NodeOf(leg);
        cluster.Signal(victim, "TERM");
        row.Log($"n{victim} stopping (SIGTERM): exit code {cluster.WaitForExit(victim, TimeSpan.FromMinutes(1))}");
        (string drive, long dataOffset, _) = cluster.LegData(leg);
        using (var file = new FileStream(drive, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            row.Note($"{leg}: {corrupt(file, dataOffset)}");
        }
        row.Fio("under-fault (target stopped)", row.UnderFault());
        cluster.WaitUntilRemoved(victim, observer: 1);
        cluster.Start(victim);
        long restartedAt = Environment.TickCount64;
        string[][] healed = row.WaitHealed(restartedAt, s_healTimeout);
        for (int pass = 1; pass <= 2; pass++)
        {
            row.Fio($"read everything back (pass {pass})", [.. row.Fill("64m", "64m"), "--verify_only"]);
        }
        (int code, string text) = cluster.Cli("volume", "scrub", NodeCluster.Volume, "--wait");
        Assert.True(code == 0, $"shoal volume scrub failed ({code}): {text}");
        row.Log($"scrub: {text.Trim()}");
        row.VerifyAfterHeal(healed);
    }

    [Fact, Trait("Faults", Subset)]
    public async Task Row8_kill_9_of_every_process_and_restart()
    {
        await using FaultRow row = await FaultRow.CreateAsync("8. kill -9 of every process",
            "kill -9 of all three nodes at once while fio writes (fio ends with an error: its in-flight writes were never acknowledged); all restarted", output);
        row.Run(() =>
        {
            NodeCluster cluster = row.Cluster;
            row.StartAndFill();
            using (RunningFio fio = row.StartFio("under-fault", row.UnderFault()))
            {
                // Kill while fio is writing: wait until the targets have counted some of its writes.
                long before = TargetWrites(cluster);
                Poll.Until(() => TargetWrites(cluster) > before + 256, "fio writing under-fault", TimeSpan.FromMinutes(1));
                Task.WaitAll([.. Enumerable.Range(1, 3).Select(n => Task.Run(() => cluster.Kill9(n)))]);
                row.Log("kill -9 of n1, n2, n3");
                (int code, _) = fio.End();
                row.Note($"fio's run cut by the kill ended with exit code {code}");
            }
            long killedAt = Environment.TickCount64;
            cluster.StartAll();
            row.Log("n1, n2, n3 restarted");
            string[][] healed = row.WaitHealed(killedAt, s_healTimeout);
            // The writes cut short were never acknowledged: that range is written again whole, then everything verified.
            row.Fio("under-fault again after the restart", row.UnderFault());
            row.Note("heal time from the kill (the fault has no end of its own) includes restarting the three processes");
            row.VerifyAfterHeal(healed);
        });
    }

    private static long TargetWrites(NodeCluster cluster) => Enumerable.Range(1, 3)
        .Sum(n => StaticCluster.Snapshot(cluster.Node(n), cluster.StatsFile(n)).GetProperty("counters").GetProperty("target").GetProperty("writes").GetInt64());

    /// <summary>Waits until the node's legs (of the given groups, or all) are out of sync.</summary>
    private static void WaitStale(FaultRow row, int node, int[]? groups)
    {
        (_, string[][] legs, _) = row.Cluster.WaitForVolume(
            v => v.Legs.Where((_, g) => groups == null || groups.Contains(g)).SelectMany(g => g)
                .Where(l => FaultRow.NodeOf(l) == node).All(l => !l.EndsWith(":InSync", StringComparison.Ordinal)),
            TimeSpan.FromMinutes(2), $"n{node}'s legs out of sync");
        row.Log($"degraded: {FaultRow.Describe(legs)}");
    }
}
