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
    public Task Row1_client_target_partition_both_ways() => RunRow("1. client↔target partition, both ways",
            "iptables DROP in the client's namespace of everything to and from one target's data port while fio writes; healed once that target's legs are stale", row => Partition(row, Cut.BothWays));

    [Fact, Trait("Faults", Matrix)]
    public Task Row2a_client_to_target_requests_dropped() => RunRow("2a. one way: client→target dropped",
            "iptables DROP of the client's packets to one target's data port (the target's replies would pass); healed once its legs are stale", row => Partition(row, Cut.Requests));

    [Fact, Trait("Faults", Matrix)]
    public Task Row2b_target_to_client_replies_dropped() => RunRow("2b. one way: target→client dropped",
            "iptables DROP in the target's namespace of its data port's packets to the client (requests arrive and are executed, replies are lost); healed once its legs are stale", row => Partition(row, Cut.Replies));

    /// <summary>One row: its own database, namespaces and cluster, disposed whatever happens; the outcome recorded.</summary>
    private Task RunRow(string row, string done, Action<FaultRow> body) => RunRow(row, done, management: false, body);

    /// <param name="management">n1 also serves the gateway (the CLI talks to it)</param>
    /// <param name="volumeAtStart">false: the row creates the volume through the gateway (management needed)</param>
    private async Task RunRow(string row, string done, bool management, Action<FaultRow> body, bool volumeAtStart = true)
    {
        await using FaultRow faultRow = await FaultRow.CreateAsync(row, done, output, management: management, volumeAtStart: volumeAtStart);
        faultRow.Run(() => body(faultRow));
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
        row.HealStarted();
        row.Log($"healed ({dropped} packets dropped)");
        string[][] healed = row.WaitHealed(s_healTimeout);
        row.Note($"{dropped} packets dropped; the legs came back on n{victim}: {healed.SelectMany(g => g).Count(l => FaultRow.NodeOf(l) == victim)}");
        row.VerifyAfterHeal(healed);
    }

    [Fact, Trait("Faults", Matrix)]
    public Task Row3_majority_minority_partition_of_the_akka_cluster() => RunRow("3. majority/minority Akka partition",
            "iptables DROP of every packet to or from the Akka ports in the namespace of a node holding legs (not the client; data path untouched) while fio writes; it is downed by keep-majority SBR and stops; healed, restarted, it rejoins", row =>
        {
            NodeCluster cluster = row.Cluster;
            int minority = FaultRow.VictimOf(row.StartAndFill());
            using (RunningFio fio = row.StartFio("under-fault", row.UnderFault()))
            {
                for (int n = 1; n <= 3; n++)
                {
                    string port = cluster.AkkaPort(n).ToString(CultureInfo.InvariantCulture);
                    (string outward, string inward) = n == minority ? ("--sport", "--dport") : ("--dport", "--sport");
                    row.Network.Drop(minority, "OUTPUT", "-p", "tcp", outward, port);
                    row.Network.Drop(minority, "INPUT", "-p", "tcp", inward, port);
                }
                long cutAt = Environment.TickCount64;
                row.Log($"n{minority} cut off from the other two at the Akka ports");
                int code = cluster.WaitForExit(minority, TimeSpan.FromMinutes(2));
                row.Note($"n{minority} (minority) stopped by itself {(Environment.TickCount64 - cutAt) / 1000.0:0.0} s after the cut, exit code {code}");
                fio.Finish();
            }
            // A stopped node's legs stay in sync in the layout until I/O meets them: write while it is down.
            row.Fio($"under-fault while n{minority} is down", row.UnderFault());
            WaitStale(row, minority, groups: [2, 3]);
            row.Network.HealAll();
            row.HealStarted();
            string[][] healed = row.RestartAndWaitHealed(minority, s_healTimeout);
            row.Note($"heal time includes n{minority}'s restart (once the majority removed it) and rejoin");
            row.VerifyAfterHeal(healed);
        });

    [Fact, Trait("Faults", Matrix)]
    public Task Row4_journal_unreachable_for_60_s() => RunRow("4. journal unreachable 60 s",
            "iptables DROP of every node's packets to PostgreSQL for 60 s; meanwhile fio writes and a leg's node is killed (-9), so the leg failure needs a decision the volume entity must persist; the killed node restarted after the journal returns", row =>
        {
            NodeCluster cluster = row.Cluster;
            string[][] legs = row.StartAndFill();
            int victim = FaultRow.VictimOf(legs);
            string port = row.Network.JournalPort.ToString(CultureInfo.InvariantCulture);
            for (int n = 1; n <= 3; n++)
            {
                row.Network.Drop(n, "OUTPUT", "-d", FaultNetwork.BridgeAddress, "-p", "tcp", "--dport", port);
            }
            long cutAt = Environment.TickCount64;
            row.Log("journal cut off from every node");
            row.Fio("under-fault (journal down, no leg failure)", row.UnderFault());
            using (RunningFio fio = row.StartFio("under-fault (journal down, a leg's node killed)", row.UnderFault()))
            {
                long before = TargetWrites(cluster);
                Poll.Until(() => TargetWrites(cluster) > before + 256, "fio writing under-fault", TimeSpan.FromMinutes(1));
                cluster.Kill9(victim);
                row.Log($"n{victim} killed (-9) while the journal is down");
                // The fault lasts 60 s whatever the volume does meanwhile: that is the row's definition, not a state.
                Thread.Sleep(TimeSpan.FromMilliseconds(Math.Max(0, 60_000 - (Environment.TickCount64 - cutAt))));
                row.Note($"fio {(fio.Exited ? "had finished" : "was still waiting")} when the journal came back");
                for (int n = 1; n <= 3; n++)
                {
                    Assert.False(n != victim && cluster.Node(n).Exited, $"n{n} stopped while the journal was unreachable");
                }
                long dropped = Enumerable.Range(1, 3).Sum(row.Network.Dropped);
                row.Network.HealAll();
                row.HealStarted();
                row.Log($"journal back after {(Environment.TickCount64 - cutAt) / 1000.0:0.0} s ({dropped} packets dropped)");
                Assert.True(dropped > 0, "no node tried to reach the journal: the fault did not bite");
                fio.Finish();
                row.Note($"{dropped} packets to the journal dropped; fio finished clean {row.SinceHeal():0.0} s after the journal returned");
            }
            // What the nodes said about the journal meanwhile (the wait after it returns is theirs to explain).
            string[] journalLines = [.. Enumerable.Range(1, 3).Where(n => n != victim).SelectMany(n => cluster.Node(n).Lines.Select(l => $"[n{n}] {l}"))
                .Where(l => l.Contains("ircuit", StringComparison.Ordinal) || l.Contains("ersist", StringComparison.Ordinal) || l.Contains("Npgsql", StringComparison.Ordinal))];
            row.Log($"{journalLines.Length} journal lines in the nodes' output, the first and last:\n{string.Join("\n", journalLines.Take(8).Concat(journalLines.TakeLast(4)).Select(l => l.Length > 400 ? l[..400] : l))}");
            WaitStale(row, victim, groups: [2, 3]);
            row.Note($"the control plane had n{victim}'s legs stale {row.SinceHeal():0.0} s after the journal returned");
            string[][] healed = row.RestartAndWaitHealed(victim, s_healTimeout);
            row.Note($"heal time includes n{victim}'s restart");
            row.VerifyAfterHeal(healed);
        });

    [Fact, Trait("Faults", Matrix)]
    public Task Row5_target_drive_full() => RunRow("5. target drive full",
            "n2's two 256 MiB sparse drive files on a 40 MiB tmpfs: its writes get ENOSPC during the fill and under-fault writes; kept full 30 s more, then healed by growing the tmpfs to 600 MiB", management: true, volumeAtStart: false, body: row =>
        {
            NodeCluster cluster = row.Cluster;
            const int Full = 2;
            row.Network.MountTmpfs(Path.Combine(cluster.Root, $"n{Full}"), "40m");
            // The volume is made once n2's drives are in view, so it has legs on the drive that fills.
            string[][] legs = row.StartCreateAndFill();
            Assert.Contains(legs.SelectMany(g => g), l => FaultRow.NodeOf(l) == Full);
            row.Fio("under-fault", row.UnderFault());
            (ulong degradedEpoch, string[][] degraded, _) = cluster.WaitForVolume(
                v => v.Legs.SelectMany(g => g).Any(l => FaultRow.NodeOf(l) == Full && !l.EndsWith(":InSync", StringComparison.Ordinal)),
                TimeSpan.FromMinutes(1), $"a leg on n{Full}'s full drive out of sync");
            row.Log($"degraded at epoch {degradedEpoch}: {FaultRow.Describe(degraded)}");
            // The drive stays full for 30 s: what does the control plane do with legs it cannot write meanwhile?
            var seen = new SortedSet<string>(StringComparer.Ordinal);
            long fullUntil = Environment.TickCount64 + 30_000;
            (ulong Epoch, string[][] Legs, long ResyncBytes) last = (degradedEpoch, degraded, 0);
            Poll.Until(() =>
            {
                last = cluster.Volume1();
                foreach (string leg in last.Legs.SelectMany(g => g))
                {
                    seen.Add($"{leg.Split('/')[0]}:{leg.Split(':')[1]}");
                }
                return Environment.TickCount64 > fullUntil;
            }, "30 s of a full drive", TimeSpan.FromSeconds(40));
            Assert.False(cluster.Node(Full).Exited, $"n{Full} stopped when its drive filled up");
            row.Log($"after 30 s full, epoch {last.Epoch}: {FaultRow.Describe(last.Legs)}");
            row.Network.ResizeTmpfs(Path.Combine(cluster.Root, $"n{Full}"), "600m");
            row.HealStarted();
            string[][] healed = row.WaitHealed(s_healTimeout);
            row.Note($"while full (30 s) the legs were seen as {string.Join(", ", seen)}; epoch {degradedEpoch} → {last.Epoch}; healed legs on n{Full}: {healed.SelectMany(g => g).Count(l => FaultRow.NodeOf(l) == Full)} (were {legs.SelectMany(g => g).Count(l => FaultRow.NodeOf(l) == Full)})");
            row.VerifyAfterHeal(healed);
        });

    [Fact, Trait("Faults", Matrix)]
    public Task Row6_bytes_flipped_in_a_stopped_targets_segment() => RunRow("6. bytes flipped at rest",
            "a leg's target stopped (SIGTERM), 64 bytes inverted inside a written 4 KiB block of that leg's segment in its drive file, target restarted; everything read back, then 'shoal volume scrub vol1 --wait'. Relies on checksums at rest (ADR 0004)", management: true, row => CorruptAtRest(row, (file, dataOffset) =>
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

    [Fact, Trait("Faults", Matrix)]
    public Task Row7_misdirected_write_a_block_copied_over_another() => RunRow("7. misdirected write",
            "a leg's target stopped (SIGTERM), a written 4 KiB block copied over another block of the same leg's segment in its drive file, target restarted; everything read back, then 'shoal volume scrub vol1 --wait'. Relies on checksums at rest (ADR 0004)", management: true, row => CorruptAtRest(row, (file, dataOffset) =>
        {
            byte[] block = new byte[4096];
            file.Position = dataOffset + (2L << 20);
            file.ReadExactly(block);
            file.Position = dataOffset + (7L << 20);
            file.Write(block);
            return "the block at segment offset 2 MiB copied over the one at 7 MiB";
        }));

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
        row.HealStarted();
        string[][] healed = row.RestartAndWaitHealed(victim, s_healTimeout);
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
    public Task Row8_kill_9_of_every_process_and_restart() => RunRow("8. kill -9 of every process",
            "kill -9 of all three nodes at once while fio writes (fio ends with an error: its in-flight writes were never acknowledged); all restarted", row =>
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
            row.HealStarted();
            cluster.StartAll();
            row.Log("n1, n2, n3 restarted");
            string[][] healed = row.WaitHealed(s_healTimeout);
            // The writes cut short were never acknowledged: that range is written again whole, then everything verified.
            row.Fio("under-fault again after the restart", row.UnderFault());
            row.Note("heal time from the kill (the fault has no end of its own) includes restarting the three processes");
            row.VerifyAfterHeal(healed);
        });

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
