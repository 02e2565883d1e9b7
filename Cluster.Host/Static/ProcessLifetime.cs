using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Shoal.Host.Static;

/// <summary>
/// Waits for SIGINT/SIGTERM, and on SIGUSR1 writes a stats snapshot (GC collections, CPU time and
/// the component's counters) to the stats file. Snapshots are taken only on request so that the
/// steady state allocates nothing.
/// </summary>
internal sealed class ProcessLifetime : IDisposable
{
    private const int SigUsr1 = 10;

    private readonly ManualResetEventSlim _stop = new();
    private readonly List<PosixSignalRegistration> _registrations = [];

    public ProcessLifetime(string? statsFile, Func<object> counters)
    {
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop));
        _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop));
        if (statsFile != null)
        {
            _registrations.Add(PosixSignalRegistration.Create((PosixSignal)SigUsr1, ctx =>
            {
                ctx.Cancel = true;
                WriteStats(statsFile, counters());
            }));
            WriteStats(statsFile, counters());
        }
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        _stop.Set();
    }

    public void WaitForStop() => _stop.Wait();

    /// <summary>Ends <see cref="WaitForStop"/> from inside the process (a node whose cluster downed it).</summary>
    public void Stop() => _stop.Set();

    public static void WriteStats(string path, object counters)
    {
        using var process = Process.GetCurrentProcess();
        var snapshot = new
        {
            pid = Environment.ProcessId,
            gen0Collections = GC.CollectionCount(0),
            gen1Collections = GC.CollectionCount(1),
            gen2Collections = GC.CollectionCount(2),
            allocatedBytes = GC.GetTotalAllocatedBytes(precise: true),
            cpuMicros = (long)process.TotalProcessorTime.TotalMicroseconds,
            counters,
        };
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(snapshot));
        File.Move(tmp, path, overwrite: true);
    }

    public void Dispose()
    {
        foreach (PosixSignalRegistration r in _registrations)
        {
            r.Dispose();
        }
    }
}
