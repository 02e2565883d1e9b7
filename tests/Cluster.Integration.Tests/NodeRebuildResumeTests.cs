using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Shoal.Actors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// A full rebuild interrupted three times with real processes, and resumed from its checkpoint each time, never from
/// offset 0: three target nodes and a client-only n4 on a PostgreSQL journal, a one-group mirror:2 volume on 64 MiB
/// segments, copied at 4 MiB/s. One leg's node dies and stays out past out-after: its leg is replaced on the third
/// node and rebuilt from the survivor. Mid-rebuild, kill -9 of the destination (written to while it is away), then
/// of the source (the group's only in-sync leg: I/O waits), then of the client running the copy; each returns, and
/// the copy resumes at or after the checkpoint the volume entity persisted before the kill. At the end the legs are
/// byte-identical and fio verifies what it wrote.
/// </summary>
public sealed partial class NodeRebuildResumeTests(PostgresServer postgres, ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    private const int OutAfterSeconds = 30;
    private const long SegmentBytes = 64L << 20;
    private const long MiB = 1L << 20;

    /// <summary>What fio writes at 0–4 MiB while the destination is away: below every checkpoint, so recopied.</summary>
    private const long WrittenWhileAwayBytes = 4L << 20;

    /// <summary>The engine's checkpoint interval (<c>EngineOptions.CheckpointBytes</c>).</summary>
    private const long CheckpointBytes = 8L << 20;

    private const int Interruptions = 3;

    private static readonly TimeSpan s_fioTimeout = TimeSpan.FromMinutes(4);

    [GeneratedRegex(@"resync-start volume=\S+ group=(\d+) leg=(\d+) fromBytes=(\S+) regions=(\d+) totalRegions=(\d+)")]
    private static partial Regex ResyncStart();

    [GeneratedRegex(@"resync-complete volume=\S+ group=(\d+) leg=(\d+) regions=(\d+) bytesCopied=(\d+)")]
    private static partial Regex ResyncComplete();

    private static void Fio(string what, string[] args)
    {
        (int code, string text) = Tool.Run("fio", args, s_fioTimeout);
        Assert.True(code == 0, $"fio ({what}) failed:\n{text}");
    }

    private static int NodeOf(string leg) => int.Parse(leg[1..2], CultureInfo.InvariantCulture);

    [Fact]
    public void A_full_rebuild_resumes_from_its_checkpoint_after_kill_9_of_destination_source_and_client()
    {
        Tool.Require("fio");
        using var cluster = new NodeCluster(postgres.ConnectionString, OutAfterSeconds, client: 4, volumeSize: "64MiB", segmentSize: "64MiB", resyncRate: "4MiB");
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

    private void Run(NodeCluster c)
    {
        var clock = Stopwatch.StartNew();
        c.StartAll();
        (_, string[][] legs, _) = c.Volume1();
        Assert.Single(legs);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: attached: {string.Join(",", legs[0])}");

        // Fill all but the first 8 MiB, then let the client clear the intent bits: from here on a bitmap names only
        // what is written later.
        Fio("fill", Tool.FioVerify(c.NbdUri, "write", "56m", "1m", 4, offset: "8m", name: "fill"));
        Polling.Until(() => legs[0].All(l => c.DirtyRegions(l) == 0), TimeSpan.FromSeconds(30), "the fill's intent bits cleared on both legs");

        // One leg's node dies and stays out: its leg is replaced on the third node and rebuilt from the survivor.
        int lost = NodeOf(legs[0][1]);
        int source = NodeOf(legs[0][0]);
        int destination = 6 - lost - source;
        c.Kill9(lost);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: killed n{lost}; source n{source}, destination n{destination}");
        (_, legs, _) = c.WaitForVolume(v => v.Legs[0].Any(l => l.StartsWith($"n{destination}/", StringComparison.Ordinal) && l.EndsWith(":Rebuilding", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(OutAfterSeconds + 90), $"n{lost}'s leg replaced on n{destination}");
        string rebuilding = legs[0].Single(l => l.StartsWith($"n{destination}/", StringComparison.Ordinal)).Split(':')[0];
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: rebuilding {rebuilding} from {legs[0].Single(l => l != rebuilding + ":Rebuilding")}");

        // 1. The destination dies mid-rebuild and is written to while away; it returns and resumes.
        long atKill = WaitForCheckpoint(c, rebuilding, 14 * MiB);
        c.Kill9(destination);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: killed the destination n{destination} at checkpoint {atKill / MiB} MiB");
        Fio("write while the destination is away", Tool.FioVerify(c.NbdUri, "randwrite", "4m", "4k", 8, offset: "0", name: "while-away"));
        c.WaitForVolume(v => v.Legs[0].Any(l => l == rebuilding + ":Stale"), TimeSpan.FromMinutes(1), "the destination's leg stale");
        long resumed = Restart(c, destination, observer: source, atKill, "destination", clock, WrittenWhileAwayBytes);

        // 2. The source, the group's only in-sync leg, dies mid-rebuild: the copy waits for it, then resumes.
        atKill = WaitForCheckpoint(c, rebuilding, resumed + (14 * MiB));
        c.Kill9(source);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: killed the source n{source} at checkpoint {atKill / MiB} MiB");
        resumed = Restart(c, source, observer: destination, atKill, "source", clock, WrittenWhileAwayBytes);

        // 3. The client running the copy dies: the restarted client attaches and resumes from the entity's checkpoint.
        atKill = WaitForCheckpoint(c, rebuilding, resumed + (7 * MiB));
        long copiedBefore = c.Volume1().ResyncBytes;
        c.Kill9(c.Client);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: killed the client n{c.Client} at checkpoint {atKill / MiB} MiB");
        Restart(c, c.Client, observer: source, atKill, "client", clock, WrittenWhileAwayBytes);

        (_, string[][] healed, _) = c.WaitForVolume(v => v.Legs[0].All(l => l.EndsWith(":InSync", StringComparison.Ordinal)), TimeSpan.FromMinutes(2), "the rebuild to complete");
        Match complete = WaitForMatch(c.Node(c.Client), ResyncComplete(), 0);
        long lastAttempt = long.Parse(complete.Groups[4].Value, CultureInfo.InvariantCulture);
        long total = copiedBefore + lastAttempt;
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: in sync: {string.Join(",", healed[0])}; copied {copiedBefore / MiB} MiB before the client died " +
            $"and {lastAttempt / MiB} MiB after, {total / MiB} MiB in all for a {SegmentBytes / MiB} MiB segment");
        Assert.Contains(healed[0], l => l.StartsWith(rebuilding + ":", StringComparison.Ordinal));
        // Each interruption copies again at most what was copied past the persisted checkpoint (under one interval and
        // the region in flight) and the regions written below it; restarting from 0 each time would copy over 140 MiB.
        long most = SegmentBytes + (Interruptions * (CheckpointBytes + MiB + WrittenWhileAwayBytes));
        Assert.True(total <= most, $"the rebuild copied {total} bytes in all: more than the {most} that resuming from each checkpoint allows");
        Fio("verify the fill", [.. Tool.FioVerify(c.NbdUri, "write", "56m", "1m", 4, offset: "8m", name: "fill"), "--verify_only"]);
        Fio("verify the writes made while the destination was away", [.. Tool.FioVerify(c.NbdUri, "randwrite", "4m", "4k", 8, offset: "0", name: "while-away"), "--verify_only"]);
        c.AssertLegsIdentical(healed);
    }

    /// <summary>
    /// Restarts a killed node once the cluster has removed it and returns the offset the rebuild resumed from, after
    /// asserting it is at or after the checkpoint persisted before the kill and that the copy covers only the rest of
    /// the segment plus the regions the bitmaps name below it (at most <paramref name="writtenBelowBytes"/>).
    /// </summary>
    private long Restart(NodeCluster c, int n, int observer, long atKill, string role, Stopwatch clock, long writtenBelowBytes)
    {
        long killedAt = clock.ElapsedMilliseconds;
        c.WaitUntilRemoved(n, observer);
        // The client's lines from before the restart (its own, when the client is the one restarted, are gone with it).
        int before = n == c.Client ? 0 : ResyncStart().Matches(string.Join("\n", c.Node(c.Client).Lines)).Count;
        c.Start(n);
        Match start = WaitForMatch(c.Node(c.Client), ResyncStart(), before);
        long from = long.Parse(start.Groups[3].Value, CultureInfo.InvariantCulture);
        int regions = int.Parse(start.Groups[4].Value, CultureInfo.InvariantCulture);
        long regionBytes = SegmentBytes / int.Parse(start.Groups[5].Value, CultureInfo.InvariantCulture);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: the {role} n{n} is back after {(clock.ElapsedMilliseconds - killedAt) / 1000.0:0.0} s; " +
            $"the rebuild resumes from {from / MiB} MiB (checkpoint at the kill {atKill / MiB} MiB), copying {regions} regions");
        Assert.True(from >= atKill, $"after the {role} returned the rebuild resumed from {from}, below the checkpoint {atKill} persisted before the kill");
        long most = ((SegmentBytes - from) + writtenBelowBytes) / regionBytes;
        Assert.True(regions <= most, $"after the {role} returned the rebuild copies {regions} regions from {from}: more than the {most} left above it and written below it");
        return from;
    }

    /// <summary>Waits until the entity's checkpoint for the rebuilding segment reaches <paramref name="atLeastBytes"/>; returns it.</summary>
    private static long WaitForCheckpoint(NodeCluster c, string segment, long atLeastBytes)
    {
        long last = -1;
        Polling.Until(() =>
        {
            var rebuild = c.Rebuilds()?.FirstOrDefault(r => r.Segment == segment);
            if (rebuild is { Kind: "Full" } r)
            {
                last = r.DoneBytes;
            }
            return last >= atLeastBytes;
        }, TimeSpan.FromSeconds(60), $"the rebuild of {segment} checkpointed at {atLeastBytes / MiB} MiB (last seen {last})");
        return last;
    }

    /// <summary>The <paramref name="index"/>-th match of <paramref name="pattern"/> in a process's output, waited for.</summary>
    private static Match WaitForMatch(ShoalProcess process, Regex pattern, int index)
    {
        Match? match = null;
        Polling.Until(() =>
        {
            MatchCollection all = pattern.Matches(string.Join("\n", process.Lines));
            match = all.Count > index ? all[index] : null;
            return match != null;
        }, TimeSpan.FromMinutes(2), $"{process.Label} to log '{pattern}' (#{index + 1})");
        return match!;
    }
}
