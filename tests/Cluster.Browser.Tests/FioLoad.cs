using System.Diagnostics;
using Shoal.Integration.Tests;

namespace Shoal.Browser.Tests;

/// <summary>fio issuing 4 KiB I/Os at a fixed rate through an NBD export until disposed (at most 5 minutes).</summary>
internal sealed class FioLoad : IDisposable
{
    private readonly Process _fio;

    private FioLoad(Process fio) => _fio = fio;

    public static async Task<FioLoad> StartAsync(string uri, string rw, int iops)
    {
        await SystemPackages.EnsureAsync("/usr/bin/fio", "fio");
        return new FioLoad(Tool.Start("fio",
        [
            // --thread: the job runs inside the one process started here (not a forked child), so stopping it stops the I/O.
            "--name=gui", "--thread", "--ioengine=nbd", $"--uri={uri}", $"--rw={rw}", "--bs=4k", "--size=64m", "--iodepth=4",
            $"--rate_iops={iops}", "--time_based", "--runtime=300", "--randrepeat=0",
        ]));
    }

    /// <summary>Stops fio: the process this object started and anything it forked.</summary>
    public void Dispose()
    {
        try
        {
            if (!_fio.HasExited)
            {
                _fio.Kill(entireProcessTree: true);
                _fio.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already reaped
        }
        _fio.Dispose();
    }
}
