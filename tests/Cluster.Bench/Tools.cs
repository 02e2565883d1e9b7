using System.Diagnostics;

namespace Shoal.Bench;

/// <summary>Finds and runs the system tools the harness depends on; a missing one is a clear failure, never a silent skip.</summary>
internal static class Tools
{
    public static string? Find(string name)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? name : null;
        }
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    public static string Require(string name, string aptPackage) =>
        Find(name) ?? throw new BenchException(
            $"'{name}' is not installed: apt-get install -y {aptPackage} (or run 'dotnet pwsh ./build.ps1 bench', which installs it)");

    /// <summary>
    /// The dotnet host that runs shoal.dll. Under 'dotnet run' this process is an apphost, so the
    /// host is looked up the way the SDK exposes it, then on PATH.
    /// </summary>
    public static string DotnetHost()
    {
        string? self = Environment.ProcessPath;
        if (self != null && Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }
        string? fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk))
        {
            return fromSdk;
        }
        return Find("dotnet") ?? throw new BenchException("'dotnet' is not on PATH: it is needed to run shoal.dll");
    }

    public static (int ExitCode, string StdOut, string StdErr) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi) ?? throw new BenchException($"could not start {file}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new BenchException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>The first line a tool prints for its version, or "unknown" (a report should not fail over a version string).</summary>
    public static string Version(string file, params string[] args)
    {
        try
        {
            (int _, string stdout, string stderr) = Run(file, args, TimeSpan.FromSeconds(10));
            string text = stdout.Length > 0 ? stdout : stderr;
            string first = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
            // qemu-nbd names itself by the path it was run as; the report wants the tool's name.
            if (first.StartsWith(file, StringComparison.Ordinal))
            {
                first = Path.GetFileName(file) + first[file.Length..];
            }
            return first.Length > 0 ? first : "unknown";
        }
        catch (Exception e) when (e is BenchException or System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
