using System.Diagnostics;

namespace Shoal.Integration.Tests;

/// <summary>Runs a system tool (fio, nbdcopy, nbdinfo). A missing tool fails the test with the reason; it never skips.</summary>
internal static class Tool
{
    public static void Require(string name)
    {
        string[] dirs = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':');
        if (!dirs.Any(d => File.Exists(Path.Combine(d, name))))
        {
            Assert.Fail($"'{name}' is not installed: run the tests with 'dotnet pwsh ./build.ps1 test', which installs the tools the tests drive with apt (see Install-SystemPackages in build.ps1)");
        }
    }

    public static (int ExitCode, string Output) Run(string file, IEnumerable<string> args, TimeSpan timeout)
    {
        Require(file);
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using Process p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        Task<string> output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit((int)timeout.TotalMilliseconds))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds:0} s");
        }
        p.WaitForExit();
        return (p.ExitCode, output.GetAwaiter().GetResult() + err.GetAwaiter().GetResult());
    }

    public static Process Start(string file, IEnumerable<string> args)
    {
        Require(file);
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

    /// <summary>fio's nbd engine with crc32c verification; the job fails on the first bad block.</summary>
    public static string[] FioVerify(string uri, string rw, string size, string bs, int iodepth, string offset = "0", string name = "verify") =>
    [
        $"--name={name}", "--ioengine=nbd", $"--uri={uri}", $"--rw={rw}", $"--bs={bs}", $"--size={size}", $"--offset={offset}",
        $"--iodepth={iodepth}", "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--randrepeat=0",
    ];
}
