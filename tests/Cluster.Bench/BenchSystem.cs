namespace Shoal.Bench;

/// <summary>
/// One running system under test: its server processes (all of whose CPU is charged to it), the
/// NBD URI fio connects to, and for shoal the stats files that report GC activity.
/// </summary>
internal sealed class BenchSystem(string name, string uri, IReadOnlyList<ServerProcess> servers, IReadOnlyList<ShoalStatsFile> statsFiles) : IDisposable
{
    public string Name { get; } = name;

    public string Uri { get; } = uri;

    /// <summary>In start order (targets before the client); stopped in reverse.</summary>
    public IReadOnlyList<ServerProcess> Servers { get; } = servers;

    /// <summary>Empty for systems that publish no GC figures (nbdkit, qemu-nbd).</summary>
    public IReadOnlyList<ShoalStatsFile> StatsFiles { get; } = statsFiles;

    public bool HasStats => StatsFiles.Count > 0;

    /// <summary>True once any server has exited, waiting up to <paramref name="grace"/> for a dying one to be reaped.</summary>
    public async Task<bool> AnyExitedAsync(TimeSpan grace)
    {
        long deadline = Environment.TickCount64 + (long)grace.TotalMilliseconds;
        while (true)
        {
            if (Servers.Any(s => s.HasExited))
            {
                return true;
            }
            if (Environment.TickCount64 > deadline)
            {
                return false;
            }
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    public void EnsureRunning()
    {
        foreach (ServerProcess s in Servers)
        {
            s.EnsureRunning();
        }
    }

    /// <summary>The servers' state and last output, to explain a failure from the server side.</summary>
    public string Describe() => string.Join('\n', Servers.Select(s => s.Describe()));

    public long ReadCpuMicros()
    {
        long total = 0;
        foreach (ServerProcess s in Servers)
        {
            total += ProcCpu.ReadMicros(s.Pid);
        }
        return total;
    }

    public async Task<StatsSnapshot[]> RequestStatsAsync(CancellationToken cancel)
    {
        var snapshots = new StatsSnapshot[StatsFiles.Count];
        for (int i = 0; i < snapshots.Length; i++)
        {
            snapshots[i] = await StatsFiles[i].RequestAsync(TimeSpan.FromSeconds(10), cancel).ConfigureAwait(false);
        }
        return snapshots;
    }

    public void Dispose()
    {
        // Client first: a target stopped under a live mirror client would be handled as a failed leg, noise in the logs at best.
        for (int i = Servers.Count - 1; i >= 0; i--)
        {
            Servers[i].Dispose();
        }
    }
}
