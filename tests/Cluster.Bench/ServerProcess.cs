using System.Diagnostics;

namespace Shoal.Bench;

/// <summary>
/// A long-running server child (shoal, nbdkit, qemu-nbd). Its output is drained continuously, so a
/// chatty server can never block on a full pipe mid-measurement, and the last lines are kept to
/// explain a failure.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private const int MaxTailLines = 40;
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly Queue<string> _tail = new();
    private readonly Lock _tailLock = new();
    private readonly string? _readyPrefix;
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _outputClosed;
    private bool _disposed;

    private ServerProcess(string label, Process process, string? readyPrefix)
    {
        Label = label;
        _process = process;
        _readyPrefix = readyPrefix;
    }

    public string Label { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the process. With <paramref name="readyPrefix"/>, <see cref="WaitReadyAsync"/> completes on the first stdout line that starts with it.</summary>
    public static ServerProcess Start(string label, string fileName, IEnumerable<string> args, string? readyPrefix)
    {
        // stdin is redirected too so that no server can read (or wait on) the operator's terminal.
        var psi = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var process = new Process { StartInfo = psi };
        var server = new ServerProcess(label, process, readyPrefix);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data, isStdOut: true);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data, isStdOut: false);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new BenchException($"{label}: could not start {fileName}: {e.Message}");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Waits for the readiness line; fails early if the process exits first, with its last output.</summary>
    public async Task<string> WaitReadyAsync(TimeSpan timeout, CancellationToken cancel)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        try
        {
            return await _ready.Task.WaitAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            throw new BenchException($"{Label} was not ready within {timeout.TotalSeconds:0} s");
        }
    }

    /// <summary>State and last output lines, for failure messages (which carry no output themselves, so none is printed twice).</summary>
    public string Describe()
    {
        // Output closes a moment before the exit is reaped: give a closing process that moment so the state is true.
        if (_outputClosed)
        {
            _process.WaitForExit(TimeSpan.FromSeconds(1));
        }
        string state = _process.HasExited ? $"exited with code {_process.ExitCode}" : "running";
        lock (_tailLock)
        {
            string output = _tail.Count == 0 ? "  (no output)" : string.Join('\n', _tail.Select(l => "  " + l));
            return $"{Label} (pid {Pid}, {state}), last output:\n{output}";
        }
    }

    /// <summary>Throws with the process's last output if it has died: a dead server must not be measured as a slow one.</summary>
    public void EnsureRunning()
    {
        if (_process.HasExited)
        {
            // Servers only exit 0 on SIGTERM/SIGINT, which the harness sends only when it is done with them.
            string why = _process.ExitCode == 0 ? " (a clean stop: something outside the harness signalled it)" : "";
            throw new BenchException($"{Label} (pid {Pid}) exited with code {_process.ExitCode}{why}");
        }
    }

    private void OnLine(string? line, bool isStdOut)
    {
        if (line == null)
        {
            if (isStdOut)
            {
                _outputClosed = true;
                _ready.TrySetException(new BenchException($"{Label} exited before it was ready"));
            }
            return;
        }
        lock (_tailLock)
        {
            _tail.Enqueue(line);
            while (_tail.Count > MaxTailLines)
            {
                _tail.Dequeue();
            }
        }
        if (isStdOut && _readyPrefix != null && line.StartsWith(_readyPrefix, StringComparison.Ordinal))
        {
            _ready.TrySetResult(line);
        }
    }

    /// <summary>SIGTERM first so servers flush and exit cleanly; SIGKILL (whole tree) if they have not after a bound.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                Posix.Signal(_process.Id, Posix.SigTerm);
                if (!_process.WaitForExit(s_stopTimeout))
                {
                    Console.Error.WriteLine($"[bench] {Label} (pid {Pid}) ignored SIGTERM for {s_stopTimeout.TotalSeconds:0} s: killing it");
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(s_stopTimeout);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already reaped: nothing left to stop.
        }
        finally
        {
            _process.Dispose();
        }
    }
}
