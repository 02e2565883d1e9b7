using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Shoal.Bench;

/// <summary>
/// Runs fio's nbd engine. Results are read from <c>--output</c> files, never stdout: fio prints
/// a status line to stdout ahead of the JSON.
/// </summary>
internal sealed class FioRunner(string fioPath, string outputDir)
{
    // fio stops itself at ramp + runtime; this bound only catches a hung connection.
    private static readonly TimeSpan s_slack = TimeSpan.FromSeconds(60);

    /// <summary>Writes the whole volume once, sequentially in 1 MiB blocks, so read cases touch written data rather than holes.</summary>
    public async Task FillAsync(string system, string uri, CancellationToken cancel)
    {
        string output = Path.Combine(outputDir, $"fill-{system}.json");
        string[] args =
        [
            // Queue depth 1 puts 512 MiB down in about a second and keeps the fill independent of how a server copes
            // with many large writes in flight (an earlier shoal build dropped its target link under that).
            "--name=fill", "--ioengine=nbd", $"--uri={uri}", "--rw=write", "--bs=1M", "--iodepth=1", "--numjobs=1",
            "--output-format=json", $"--output={output}",
        ];
        await RunAsync(args, TimeSpan.FromMinutes(5), onRampEnd: null, TimeSpan.Zero, cancel).ConfigureAwait(false);
        using JsonDocument doc = Load(output);
        long written = Job(doc, output).GetProperty("write").GetProperty("io_kbytes").GetInt64() * 1024;
        if (written < SystemLauncher.VolumeBytes)
        {
            throw new BenchException($"fill of {system} wrote {written} bytes, expected {SystemLauncher.VolumeBytes} (see {output})");
        }
    }

    /// <summary>
    /// Runs one case. <paramref name="onRampEnd"/> is called once the warm-up is over, while fio is
    /// measuring, so the caller can open its server-side window at the same point fio opens its own.
    /// </summary>
    public async Task<FioResult> RunCaseAsync(string system, string uri, BenchCase benchCase, int runtimeSeconds, int rampSeconds,
        Func<Task> onRampEnd, CancellationToken cancel)
    {
        string output = Path.Combine(outputDir, $"{benchCase.Name}-{system}.json");
        string[] args =
        [
            $"--name={benchCase.Name}", "--ioengine=nbd", $"--uri={uri}", $"--rw={benchCase.ReadWrite}",
            $"--bs={BenchCase.BlockBytes.ToString(CultureInfo.InvariantCulture)}",
            $"--iodepth={benchCase.IoDepth.ToString(CultureInfo.InvariantCulture)}", "--numjobs=1",
            "--time_based", $"--runtime={runtimeSeconds.ToString(CultureInfo.InvariantCulture)}",
            $"--ramp_time={rampSeconds.ToString(CultureInfo.InvariantCulture)}",
            // Fresh offsets each run and no random map: the same pattern whichever system runs first.
            "--randrepeat=0", "--norandommap",
            // With the nbd engine much of each I/O's time is submission (slat), so clat alone flatters a
            // server that answers while fio is still submitting; total-latency percentiles show the whole.
            "--lat_percentiles=1",
            "--output-format=json", $"--output={output}",
        ];
        await RunAsync(args, TimeSpan.FromSeconds(runtimeSeconds + rampSeconds) + s_slack, onRampEnd, TimeSpan.FromSeconds(rampSeconds), cancel)
            .ConfigureAwait(false);
        using JsonDocument doc = Load(output);
        JsonElement job = Job(doc, output);
        JsonElement io = job.GetProperty(benchCase.FioDirection);
        JsonElement clat = io.GetProperty("clat_ns");
        JsonElement lat = io.GetProperty("lat_ns");
        long totalIos = io.GetProperty("total_ios").GetInt64();
        if (totalIos <= 0)
        {
            throw new BenchException($"fio {benchCase.Name} against {system} completed no I/O (see {output})");
        }
        return new FioResult(
            io.GetProperty("iops").GetDouble(),
            totalIos,
            clat.GetProperty("mean").GetDouble() / 1000.0,
            clat.GetProperty("percentile").GetProperty("99.000000").GetDouble() / 1000.0,
            lat.GetProperty("mean").GetDouble() / 1000.0,
            lat.GetProperty("percentile").GetProperty("99.000000").GetDouble() / 1000.0,
            job.GetProperty("usr_cpu").GetDouble() + job.GetProperty("sys_cpu").GetDouble(),
            job.GetProperty("job_runtime").GetInt64());
    }

    private async Task RunAsync(string[] args, TimeSpan timeout, Func<Task>? onRampEnd, TimeSpan ramp, CancellationToken cancel)
    {
        var psi = new ProcessStartInfo(fioPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process fio = Process.Start(psi) ?? throw new BenchException($"could not start {fioPath}");
        Task<string> stdout = fio.StandardOutput.ReadToEndAsync(cancel);
        Task<string> stderr = fio.StandardError.ReadToEndAsync(cancel);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        try
        {
            Task exited = fio.WaitForExitAsync(deadline.Token);
            if (onRampEnd != null)
            {
                // A timed mark, not a wait for state: fio's own ramp is a timer started as the job starts,
                // and the process start is within milliseconds of it.
                Task rampOver = Task.Delay(ramp, deadline.Token);
                if (await Task.WhenAny(exited, rampOver).ConfigureAwait(false) == exited)
                {
                    await exited.ConfigureAwait(false);
                    throw new BenchException($"fio exited (code {fio.ExitCode}) before its warm-up ended: {await stderr.ConfigureAwait(false)}{await stdout.ConfigureAwait(false)}");
                }
                await rampOver.ConfigureAwait(false);
                await onRampEnd().ConfigureAwait(false);
            }
            await exited.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            fio.Kill(entireProcessTree: true);
            await fio.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            if (cancel.IsCancellationRequested)
            {
                throw;
            }
            throw new BenchException($"fio {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s");
        }
        catch
        {
            // The caller's callback failed (e.g. a server died): do not leave fio running behind us.
            if (!fio.HasExited)
            {
                fio.Kill(entireProcessTree: true);
                await fio.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
            throw;
        }
        if (fio.ExitCode != 0)
        {
            throw new BenchException($"fio failed (exit {fio.ExitCode}): {string.Join(' ', args)}\n{(await stderr.ConfigureAwait(false)).Trim()}\n{(await stdout.ConfigureAwait(false)).Trim()}");
        }
    }

    private static JsonDocument Load(string path)
    {
        string text = File.Exists(path) ? File.ReadAllText(path) : throw new BenchException($"fio wrote no output file {path}");
        // Tolerate any notice fio puts ahead of the JSON object.
        int start = text.IndexOf('{', StringComparison.Ordinal);
        try
        {
            return JsonDocument.Parse(start >= 0 ? text[start..] : text);
        }
        catch (JsonException e)
        {
            throw new BenchException($"fio output {path} is not JSON: {e.Message}");
        }
    }

    private static JsonElement Job(JsonDocument doc, string path)
    {
        JsonElement job = doc.RootElement.GetProperty("jobs")[0];
        int error = job.GetProperty("error").GetInt32();
        return error == 0 ? job : throw new BenchException($"fio job reported error {error} (see {path})");
    }
}
