using System.Diagnostics;
using System.Globalization;

namespace Shoal.Host.Attach;

/// <summary>The system tools and kernel views the attach helper uses: losetup, fusermount3, nbd-client, mountinfo, /proc.</summary>
internal static class HostTools
{
    private static readonly TimeSpan s_toolTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Runs a tool to its end (bounded); its exit code and its stdout and stderr together, trimmed.</summary>
    public static (int ExitCode, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        Process p;
        try
        {
            p = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, $"{file}: {e.Message}");
        }
        using (p)
        {
            p.StandardInput.Close();
            Task<string> err = p.StandardError.ReadToEndAsync();
            Task<string> output = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(s_toolTimeout))
            {
                p.Kill(entireProcessTree: true);
                return (124, $"{file} did not finish within {s_toolTimeout.TotalSeconds:0} s");
            }
            p.WaitForExit();
            return (p.ExitCode, (output.GetAwaiter().GetResult() + err.GetAwaiter().GetResult()).Trim());
        }
    }

    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':').Concat(["/usr/sbin", "/sbin"])
            .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, tool)));

    /// <summary>The mount table's (mount point, file system type, source) rows, octal escapes undone.</summary>
    public static IEnumerable<(string MountPoint, string Type, string Source)> Mounts()
    {
        foreach (string line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            string[] fields = line.Split(' ');
            int dash = Array.IndexOf(fields, "-");
            if (dash < 0 || fields.Length < dash + 3)
            {
                continue;
            }
            yield return (Unescape(fields[4]), fields[dash + 1], Unescape(fields[dash + 2]));
        }
    }

    public static bool IsMountPoint(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd('/');
        return Mounts().Any(m => m.MountPoint == full);
    }

    /// <summary>Where <paramref name="device"/> is mounted, or null.</summary>
    public static string? MountedAt(string device) => Mounts().Where(m => m.Source == device).Select(m => m.MountPoint).FirstOrDefault();

    /// <summary>
    /// Processes in other mount namespaces that have <paramref name="device"/> mounted (a namespace made while it was
    /// mounted keeps its own copy of the mount when the root is not a shared mount, e.g. <c>ip netns exec</c>).
    /// </summary>
    public static IReadOnlyList<string> MountedElsewhere(string device)
    {
        string self;
        try
        {
            self = new FileInfo("/proc/self/ns/mnt").LinkTarget ?? "";
        }
        catch (IOException)
        {
            return [];
        }
        var found = new List<string>();
        foreach (string dir in Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                if (new FileInfo(Path.Combine(dir, "ns", "mnt")).LinkTarget is { } ns && ns != self &&
                    File.ReadLines(Path.Combine(dir, "mountinfo")).Any(l => l.Split(" - ") is [_, var tail] && tail.Split(' ') is [_, var source, ..] && source == device))
                {
                    found.Add($"pid {Path.GetFileName(dir)} ({File.ReadAllText(Path.Combine(dir, "comm")).Trim()})");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // the process ended while we looked
            }
        }
        return found;
    }

    /// <summary>True while process <paramref name="pid"/> exists and is a <c>shoal attach-helper</c> (not a reused pid).</summary>
    public static bool IsHelperAlive(int pid)
    {
        try
        {
            string cmdline = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline");
            string state = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            // A zombie (state Z) has exited; its parent has not reaped it yet.
            int close = state.LastIndexOf(')');
            return cmdline.Contains("attach-helper", StringComparison.Ordinal) && !(close > 0 && state.Length > close + 2 && state[close + 2] == 'Z');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static void Signal(int pid, string signal) => Run("kill", "-" + signal, pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>Polls <paramref name="done"/> every 50 ms until it holds or <paramref name="timeout"/> passes.</summary>
    public static bool WaitFor(Func<bool> done, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!done())
        {
            if (Environment.TickCount64 > deadline)
            {
                return false;
            }
            Thread.Sleep(50);
        }
        return true;
    }

    /// <summary>The last lines of a log file, for an error message.</summary>
    public static string Tail(string file, int lines)
    {
        try
        {
            return string.Join("\n", File.ReadAllLines(file).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }
        return text.ToString();
    }
}
