using System.Diagnostics;
using System.Text.Json;

namespace Shoal.Bench;

/// <summary>
/// A shoal process's <c>--stats-file</c>. shoal writes it at start and again on each SIGUSR1 (via an
/// atomic rename), so a fresh snapshot is "signal, then wait until the file's write time changes".
/// </summary>
internal sealed class ShoalStatsFile(string path, ServerProcess owner)
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(1);

    public string Path { get; } = path;

    public ServerProcess Owner { get; } = owner;

    public async Task<StatsSnapshot> RequestAsync(TimeSpan timeout, CancellationToken cancel)
    {
        DateTime before = File.Exists(Path) ? File.GetLastWriteTimeUtc(Path) : DateTime.MinValue;
        if (!Posix.Signal(Owner.Pid, Posix.SigUsr1))
        {
            Owner.EnsureRunning();
            throw new BenchException($"could not signal {Owner.Label} (pid {Owner.Pid})");
        }
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(Path) && File.GetLastWriteTimeUtc(Path) != before)
            {
                return Parse(await File.ReadAllTextAsync(Path, cancel).ConfigureAwait(false));
            }
            Owner.EnsureRunning();
            if (clock.Elapsed > timeout)
            {
                throw new BenchException($"{Owner.Label} did not rewrite {Path} within {timeout.TotalSeconds:0} s of SIGUSR1");
            }
            await Task.Delay(s_pollInterval, cancel).ConfigureAwait(false);
        }
    }

    private StatsSnapshot Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            JsonElement root = doc.RootElement;
            JsonElement counters = root.GetProperty("counters");
            return new StatsSnapshot(
                root.GetProperty("gen0Collections").GetInt64(),
                root.GetProperty("allocatedBytes").GetInt64(),
                root.GetProperty("cpuMicros").GetInt64(),
                counters.TryGetProperty("reads", out JsonElement r) ? r.GetInt64() : 0,
                counters.TryGetProperty("writes", out JsonElement w) ? w.GetInt64() : 0);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BenchException($"{Owner.Label}: unreadable stats file {Path}: {e.Message}");
        }
    }
}
