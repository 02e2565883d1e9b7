using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Shoal.Integration.Tests;

/// <summary>A real <c>shoal</c> process started from the build output, with its output captured for assertions.</summary>
internal sealed class ShoalProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private ShoalProcess(Process process, string label)
    {
        _process = process;
        Label = label;
    }

    public string Label { get; }

    public int Pid => _process.Id;

    public bool Exited => _process.HasExited;

    public IEnumerable<string> Lines => _lines;

    public static string ShoalDll => Path.Combine(AppContext.BaseDirectory, "shoal.dll");

    public static ShoalProcess Start(string label, params string[] args) => StartWith(label, args, "shoal ", TimeSpan.FromSeconds(30));

    /// <param name="netns">a network namespace to run it in (<c>ip netns exec</c> execs in place, so the pid is shoal's)</param>
    public static ShoalProcess StartWith(string label, IReadOnlyList<string> args, string readyPrefix, TimeSpan timeout, string? netns = null)
    {
        var psi = new ProcessStartInfo(netns == null ? "dotnet" : "ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (netns != null)
        {
            foreach (string a in (string[])["netns", "exec", netns, "dotnet"])
            {
                psi.ArgumentList.Add(a);
            }
        }
        psi.ArgumentList.Add(ShoalDll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi)!;
        var shoal = new ShoalProcess(process, label);
        var ready = new ManualResetEventSlim();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                shoal._lines.Enqueue("out: " + e.Data);
                if (e.Data.StartsWith(readyPrefix, StringComparison.Ordinal) && e.Data.Contains("ready", StringComparison.Ordinal))
                {
                    ready.Set();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                shoal._lines.Enqueue("err: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!ready.Wait(50))
        {
            if (process.HasExited || Environment.TickCount64 > deadline)
            {
                string why = process.HasExited ? "exited " + process.ExitCode : "timeout";
                string output = string.Join("\n", shoal._lines);
                shoal.Dispose();
                throw new InvalidOperationException($"{label} did not become ready ({why}):\n{output}");
            }
        }
        return shoal;
    }

    /// <summary>Runs shoal to completion (a CLI command) and returns its exit code and output.</summary>
    public static (int ExitCode, string Output) RunToEnd(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(ShoalDll);
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output + err.GetAwaiter().GetResult());
    }

    /// <summary>Waits for an output line containing <paramref name="fragment"/>; returns it.</summary>
    public string WaitForLine(string fragment, TimeSpan timeout, Func<string, bool>? also = null)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            string? line = _lines.FirstOrDefault(l => l.Contains(fragment, StringComparison.Ordinal) && (also == null || also(l)));
            if (line != null)
            {
                return line;
            }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"{Label}: no line with '{fragment}' within {timeout.TotalSeconds:0} s. Output:\n{string.Join("\n", _lines)}");
    }

    public void Signal(string signal)
    {
        using Process kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit((int)timeout.TotalMilliseconds);

    /// <summary>The exit code of a process that has ended.</summary>
    public int ExitCode => _process.ExitCode;

    public void Kill9()
    {
        Signal("KILL");
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Signal("TERM");
                if (!_process.WaitForExit(5000))
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(5000);
                }
            }
        }
        catch (InvalidOperationException)
        {
            // never started or already reaped
        }
        _process.Dispose();
    }
}
