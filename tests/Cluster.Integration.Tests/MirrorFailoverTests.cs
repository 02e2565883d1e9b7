using System.Globalization;
using System.Text.RegularExpressions;

namespace Shoal.Integration.Tests;

/// <summary>
/// kill -9 of one mirror target while fio writes with verification: the static control callback
/// marks the leg stale at a new epoch, I/O continues, verify passes; when the target returns only
/// the regions written meanwhile are copied, and both legs end byte-identical.
/// </summary>
public sealed partial class MirrorFailoverTests
{
    [GeneratedRegex(@"bytesCopied=(\d+)")]
    private static partial Regex BytesCopied();

    [Fact]
    public void Kill_one_leg_under_fio_verify_then_delta_resync_leaves_legs_identical()
    {
        using var cluster = StaticCluster.Mirror2("failover", "256MiB");

        // Fill the volume, then let the client clear every intent bit: from here on, only new writes are dirty.
        (int code, string output) = Tool.Run("fio", Tool.FioVerify(cluster.NbdUri, "write", "256m", "1m", 4, name: "fill"), TimeSpan.FromMinutes(3));
        Assert.True(code == 0, output);
        cluster.WaitForCounters(c => c.GetProperty("intentClears").GetInt64() >= 256, TimeSpan.FromSeconds(60), "all 256 regions' intent bits cleared");

        // 32 MiB of random 4 KiB writes at 64 MiB with verification; kill t2 part-way through.
        long writesBefore = cluster.ClientCounters().GetProperty("writes").GetInt64();
        using var fio = Tool.Start("fio", Tool.FioVerify(cluster.NbdUri, "randwrite", "32m", "4k", 8, offset: "64m", name: "under-failure"));
        Task<string> fioOut = fio.StandardOutput.ReadToEndAsync();
        Task<string> fioErr = fio.StandardError.ReadToEndAsync();
        cluster.WaitForCounters(c => c.GetProperty("writes").GetInt64() > writesBefore + 1500, TimeSpan.FromSeconds(60), "fio under way");
        cluster.KillTarget("t2");
        Assert.True(fio.WaitForExit(180_000), "fio did not finish after the leg was lost");
        string fioText = fioOut.GetAwaiter().GetResult() + fioErr.GetAwaiter().GetResult();
        Assert.True(fio.ExitCode == 0, $"fio failed after the leg was lost:\n{fioText}");
        cluster.Client!.WaitForLine("stale at epoch", TimeSpan.FromSeconds(5));
        Assert.Equal(0, cluster.ClientCounters().GetProperty("errors").GetInt64());

        // Bring t2 back: the client resyncs only the dirty regions.
        cluster.StartTarget("t2");
        var counters = cluster.WaitForCounters(c => c.GetProperty("legs").EnumerateArray().All(g => g.EnumerateArray().All(l => l.GetString() == "InSync")),
            TimeSpan.FromSeconds(120), "every leg resynced");
        long copied = counters.GetProperty("resyncBytes").GetInt64();
        // The legs turn in sync just before their resync-complete lines are logged, and the process's output is read
        // asynchronously: give the lines a moment to arrive before comparing.
        long Logged() => cluster.Client.Lines.Where(l => l.Contains("resync-complete", StringComparison.Ordinal))
            .Sum(l => long.Parse(BytesCopied().Match(l).Groups[1].Value, CultureInfo.InvariantCulture));
        long deadline = Environment.TickCount64 + 10_000;
        while (Logged() != copied && Environment.TickCount64 < deadline)
        {
            Thread.Sleep(20);
        }
        Assert.Equal(copied, Logged());
        Assert.InRange(copied, 32L << 20, 34L << 20); // the 32 MiB written while t2 was away, not the 256 MiB volume

        foreach (var group in cluster.Layout.Groups)
        {
            Assert.True(cluster.SegmentBytes(group.Legs[0].Target, group.Legs[0].Segment).AsSpan().SequenceEqual(cluster.SegmentBytes(group.Legs[1].Target, group.Legs[1].Segment)),
                $"legs of segment {group.Legs[0].Segment} differ after resync");
        }

        // and the data read through the volume is still what fio wrote
        (code, output) = Tool.Run("fio", [.. Tool.FioVerify(cluster.NbdUri, "randwrite", "32m", "4k", 8, offset: "64m", name: "under-failure"), "--verify_only"], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, output);
    }
}
