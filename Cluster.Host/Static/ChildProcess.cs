using System.Diagnostics;

namespace Shoal.Host.Static;

/// <summary>Starts another <c>shoal</c> process (same binary) and waits for its readiness line.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;

    private ChildProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public static ChildProcess Start(IReadOnlyList<string> args, string readyPrefix, TimeSpan timeout, Action<string> log)
    {
        var psi = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string self = Environment.ProcessPath!;
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.FileName = self;
            psi.ArgumentList.Add(typeof(ChildProcess).Assembly.Location);
        }
        else
        {
            psi.FileName = self;
        }
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi)!;
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == null)
            {
                ready.TrySetException(new InvalidOperationException($"{args[0]} exited before it was ready"));
                return;
            }
            if (e.Data.StartsWith(readyPrefix, StringComparison.Ordinal))
            {
                ready.TrySetResult(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                log(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!ready.Task.Wait(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{args[0]} was not ready within {timeout.TotalSeconds:0} s");
        }
        return new ChildProcess(process);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])?.WaitForExit();
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }
}
