using System.Diagnostics;

namespace Shoal.Integration.Tests;

/// <summary>fio running in the background while a fault is injected; its output is drained as it runs.</summary>
internal sealed class RunningFio : IDisposable
{
    private readonly string _what;
    private readonly Process _process;
    private readonly TimeSpan _timeout;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    public RunningFio(string what, Process process, TimeSpan timeout)
    {
        _what = what;
        _process = process;
        _timeout = timeout;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public bool Exited => _process.HasExited;

    /// <summary>Waits for fio to end and asserts it ended clean (every write acknowledged and verified).</summary>
    public void Finish()
    {
        (int code, string text) = End();
        Assert.True(code == 0, $"fio ({_what}) failed:\n{text}");
    }

    /// <summary>Waits for fio to end; its exit code and output (a run cut short by the fault ends with an error).</summary>
    public (int ExitCode, string Output) End()
    {
        Assert.True(_process.WaitForExit((int)_timeout.TotalMilliseconds), $"fio ({_what}) did not finish within {_timeout.TotalSeconds:0} s");
        _process.WaitForExit();
        return (_process.ExitCode, _stdout.GetAwaiter().GetResult() + _stderr.GetAwaiter().GetResult());
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }
        _process.Dispose();
    }
}
