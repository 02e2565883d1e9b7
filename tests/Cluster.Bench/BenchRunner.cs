using System.Globalization;
using System.Text.Json;

namespace Shoal.Bench;

/// <summary>
/// One benchmark run: start every selected system, fill each volume once, then for each case run
/// every system in turn (interleaved, so slow drift in the machine hits all systems alike), and
/// write the JSON and markdown reports. Every server is stopped and the scratch directory removed
/// however the run ends.
/// </summary>
internal sealed class BenchRunner(BenchOptions options, string harnessArgs, Action<string> log)
{
    private const string ScratchDir = "/dev/shm/shoal-bench";

    // The machine is shared and other work may kill servers by name; a run survives that a bounded number of times per step.
    private const int MaxAttempts = 3;

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private readonly List<BenchSystem> _systems = [];
    private readonly List<string> _interruptions = [];

    public async Task RunAsync(CancellationToken cancel)
    {
        string fio = Tools.Require("fio", "fio");
        string? nbdkit = options.Systems.Contains(SystemNames.Nbdkit) ? Tools.Require("nbdkit", "nbdkit") : Tools.Find("nbdkit");
        string? qemuNbd = options.Systems.Contains(SystemNames.QemuNbd) ? Tools.Require("qemu-nbd", "qemu-utils") : Tools.Find("qemu-nbd");
        Tools.Require("nbdinfo", "libnbd-bin");
        if (options.Systems.Any(SystemNames.IsShoal) && !File.Exists(options.ShoalDll))
        {
            throw new BenchException($"{options.ShoalDll} does not exist: build it with 'dotnet build -c Release Cluster.Host/Cluster.Host.csproj' (or pass --shoal-dll)");
        }
        log($"clock ticks per second: {ProcCpu.TicksPerSecond.ToString(CultureInfo.InvariantCulture)}");
        MachineInfo machine = MachineInfo.Collect(fio, nbdkit, qemuNbd);
        DateTimeOffset started = DateTimeOffset.UtcNow;
        string loadAtStart = HostFacts.LoadAverage();

        var results = new List<CaseResult>();
        // Fresh files every run: a leftover from an interrupted run would carry old data and drive metadata into this one.
        ResetScratch();
        try
        {
            string fioDir = Directory.CreateDirectory(Path.Combine(ScratchDir, "fio")).FullName;
            var launcher = new SystemLauncher(options, ScratchDir, log);
            var runner = new FioRunner(fio, fioDir);
            bool fill = options.Cases.Any(c => c.IsRead);
            foreach (string name in options.Systems)
            {
                _systems.Add(await launcher.StartAsync(name, cancel).ConfigureAwait(false));
            }
            if (fill)
            {
                for (int i = 0; i < _systems.Count; i++)
                {
                    await WithRestartsAsync(i, "fill", launcher, runner, fill, s => FillAsync(runner, s, cancel), cancel).ConfigureAwait(false);
                }
            }
            foreach (BenchCase benchCase in options.Cases)
            {
                for (int i = 0; i < _systems.Count; i++)
                {
                    (CaseResult measured, int restarts) = await WithRestartsAsync(i, benchCase.Name, launcher, runner, fill,
                        s => MeasureAsync(runner, s, benchCase, cancel), cancel).ConfigureAwait(false);
                    CaseResult r = measured with { Restarts = restarts };
                    results.Add(r);
                    string gen0 = r.ServerGen0?.ToString(CultureInfo.InvariantCulture) ?? "-";
                    log(string.Create(CultureInfo.InvariantCulture,
                        $"{benchCase.Name,-16} {r.System,-14} {r.Iops,9:N0} IOPS  clat {r.ClatMeanUs,7:0.0} µs  p99 {r.ClatP99Us,7:0.0} µs  server {r.ServerCpuUsPerIo,6:0.0} µs/IO  gen0 {gen0}"));
                }
            }
        }
        finally
        {
            for (int i = _systems.Count - 1; i >= 0; i--)
            {
                _systems[i].Dispose();
            }
            RemoveScratch();
        }

        string loadAtEnd = HostFacts.LoadAverage();
        WriteJson(results);
        WriteMarkdown(results, machine, started, (loadAtStart, loadAtEnd));
    }

    /// <summary>
    /// Runs one step against system <paramref name="index"/>. If it fails because one of that
    /// system's servers died (on this shared machine, usually someone's pkill), the system is
    /// restarted on fresh files, refilled, and the step retried; the report lists every such event.
    /// A failure with all servers alive is the system's own and fails the run.
    /// </summary>
    private async Task<(T Result, int Restarts)> WithRestartsAsync<T>(int index, string step, SystemLauncher launcher, FioRunner runner, bool fill,
        Func<BenchSystem, Task<T>> action, CancellationToken cancel)
    {
        for (int attempt = 1; ; attempt++)
        {
            BenchSystem system = _systems[index];
            try
            {
                return (await action(system).ConfigureAwait(false), attempt - 1);
            }
            catch (BenchException e) when (!cancel.IsCancellationRequested)
            {
                bool died = await system.AnyExitedAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                string failure = $"{step} on {system.Name}: {e.Message}";
                if (!died || attempt >= MaxAttempts)
                {
                    throw new BenchException($"{failure}\n{system.Describe()}");
                }
                string dead = string.Join(", ", system.Servers.Where(s => s.HasExited).Select(s => s.Label));
                _interruptions.Add(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss} {step} on {system.Name}: {dead} died; restarted on fresh files and retried"));
                log($"{failure}\n{system.Describe()}\n{system.Name}: restarting on fresh files and retrying {step} (attempt {attempt + 1} of {MaxAttempts})");
                system.Dispose();
                _systems[index] = await launcher.StartAsync(system.Name, cancel).ConfigureAwait(false);
                if (fill)
                {
                    await FillAsync(runner, _systems[index], cancel).ConfigureAwait(false);
                }
            }
        }
    }

    private async Task<bool> FillAsync(FioRunner runner, BenchSystem system, CancellationToken cancel)
    {
        log($"{system.Name}: filling {SystemLauncher.VolumeBytes >> 20} MiB");
        await runner.FillAsync(system.Name, system.Uri, cancel).ConfigureAwait(false);
        system.EnsureRunning();
        return true;
    }

    private async Task<CaseResult> MeasureAsync(FioRunner runner, BenchSystem system, BenchCase benchCase, CancellationToken cancel)
    {
        system.EnsureRunning();
        StatsSnapshot[] before = [];
        long cpuBefore = 0;
        long wallBefore = 0;
        FioResult fio = await runner.RunCaseAsync(system.Name, system.Uri, benchCase, options.RuntimeSeconds, options.RampSeconds, async () =>
        {
            // Stats first, CPU second: the CPU shoal spends writing its stats file stays outside the window.
            before = await system.RequestStatsAsync(cancel).ConfigureAwait(false);
            cpuBefore = system.ReadCpuMicros();
            wallBefore = Environment.TickCount64;
        }, cancel).ConfigureAwait(false);
        // CPU first, stats second, for the same reason at the other edge.
        long cpuAfter = system.ReadCpuMicros();
        long wallAfter = Environment.TickCount64;
        StatsSnapshot[] after = await system.RequestStatsAsync(cancel).ConfigureAwait(false);
        system.EnsureRunning();

        // Our window opens at a timer mark and closes when fio exits, so it is a little off fio's
        // measured window; charging the server's CPU rate over fio's own runtime absorbs that.
        double windowMs = Math.Max(1, wallAfter - wallBefore);
        double cpuMicros = (cpuAfter - cpuBefore) * (fio.RuntimeMs / windowMs);
        long? gen0 = null;
        long? allocated = null;
        long? counted = null;
        if (system.HasStats)
        {
            gen0 = 0;
            allocated = 0;
            for (int i = 0; i < after.Length; i++)
            {
                gen0 += after[i].Gen0Collections - before[i].Gen0Collections;
                allocated += after[i].AllocatedBytes - before[i].AllocatedBytes;
            }
            // The client is started last, so its stats file is the last one; targets count each mirror leg separately.
            counted = after[^1].Reads + after[^1].Writes - before[^1].Reads - before[^1].Writes;
        }
        return new CaseResult
        {
            Case = benchCase.Name,
            System = system.Name,
            Iops = Math.Round(fio.Iops, 1),
            ClatMeanUs = Math.Round(fio.ClatMeanUs, 2),
            ClatP99Us = Math.Round(fio.ClatP99Us, 2),
            ServerCpuUsPerIo = Math.Round(cpuMicros / fio.TotalIos, 2),
            ServerGen0 = gen0,
            LatMeanUs = Math.Round(fio.LatMeanUs, 2),
            LatP99Us = Math.Round(fio.LatP99Us, 2),
            TotalIos = fio.TotalIos,
            IoDepth = benchCase.IoDepth,
            RuntimeS = options.RuntimeSeconds,
            RampS = options.RampSeconds,
            FioCpuPercent = Math.Round(fio.ClientCpuPercent, 1),
            ServerAllocatedBytes = allocated,
            ServerCountedIos = counted,
        };
    }

    private void WriteJson(List<CaseResult> results)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(options.OutJson)!);
        File.WriteAllText(options.OutJson, JsonSerializer.Serialize(results, s_json) + "\n");
        log($"wrote {options.OutJson}");
    }

    private void WriteMarkdown(List<CaseResult> results, MachineInfo machine, DateTimeOffset started, (string Start, string End) loadAverage)
    {
        string? notes = File.Exists(options.OutMarkdown) ? MarkdownReport.ExtractNotes(File.ReadAllText(options.OutMarkdown)) : null;
        Directory.CreateDirectory(Path.GetDirectoryName(options.OutMarkdown)!);
        File.WriteAllText(options.OutMarkdown, MarkdownReport.Render(results, options, machine, started, harnessArgs, loadAverage, _interruptions, notes));
        log($"wrote {options.OutMarkdown}");
    }

    private static void ResetScratch()
    {
        if (Directory.Exists(ScratchDir))
        {
            Directory.Delete(ScratchDir, recursive: true);
        }
        Directory.CreateDirectory(ScratchDir);
    }

    private void RemoveScratch()
    {
        try
        {
            Directory.Delete(ScratchDir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log($"could not remove {ScratchDir}: {e.Message}");
        }
    }
}
