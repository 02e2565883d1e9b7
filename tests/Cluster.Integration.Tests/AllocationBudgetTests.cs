using System.Text.Json;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// The hot path allocates nothing: a steady fio load through the client process and two mirror
/// target processes, with each process's precise allocation counter read before and after.
/// </summary>
public sealed class AllocationBudgetTests(ITestOutputHelper output)
{
    private const int Ios = 200_000;

    [Fact]
    public void Steady_state_io_allocates_nothing_in_client_or_targets()
    {
        using var cluster = StaticCluster.Mirror2("alloc", "128MiB");
        string[] load = ["--name=steady", "--ioengine=nbd", $"--uri={cluster.NbdUri}", "--rw=randrw", "--bs=4k", "--size=128m", "--iodepth=8", $"--number_ios={Ios}", "--randrepeat=0"];

        // Warm up: JIT tiers, first touch of every region's intent bit, the pools.
        (int code, string text) = Tool.Run("fio", ["--name=warm", "--ioengine=nbd", $"--uri={cluster.NbdUri}", "--rw=write", "--bs=1m", "--size=128m", "--iodepth=4"], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);
        (code, text) = Tool.Run("fio", load, TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);

        var processes = new (ShoalProcess Process, string Stats)[] { (cluster.Client!, cluster.StatsFile), (cluster.Target("t1"), cluster.TargetStatsFile("t1")), (cluster.Target("t2"), cluster.TargetStatsFile("t2")) };
        JsonElement[] before = processes.Select(p => StaticCluster.Snapshot(p.Process, p.Stats)).ToArray();
        (code, text) = Tool.Run("fio", load, TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);
        JsonElement[] after = processes.Select(p => StaticCluster.Snapshot(p.Process, p.Stats)).ToArray();

        for (int i = 0; i < processes.Length; i++)
        {
            long allocated = after[i].GetProperty("allocatedBytes").GetInt64() - before[i].GetProperty("allocatedBytes").GetInt64();
            int gen0 = after[i].GetProperty("gen0Collections").GetInt32() - before[i].GetProperty("gen0Collections").GetInt32();
            output.WriteLine($"{processes[i].Process.Label}: {allocated} bytes allocated, {gen0} gen0 collections over {Ios} I/Os");
            // Each fio run is a new NBD connection, whose buffers (~400 KiB) are allocated once; a snapshot
            // costs a few KiB. One object per I/O would be at least 24 x 200,000 = 4.8 MB.
            Assert.True(allocated < 1024 * 1024, $"{processes[i].Process.Label} allocated {allocated} bytes over {Ios} I/Os");
            Assert.Equal(0, gen0);
        }
    }
}
