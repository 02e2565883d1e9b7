using System.Runtime.InteropServices;

namespace Shoal.Bench;

/// <summary>
/// Signals sent straight through libc: spawning <c>kill(1)</c> would put a fork and exec on the CPU
/// exactly at the edges of the measured window, and .NET's Process.Kill only sends SIGKILL.
/// </summary>
internal static partial class Posix
{
    public const int SigTerm = 15;
    public const int SigUsr1 = 10;

    /// <summary>Returns false (and never throws) when the process is gone: callers decide whether that matters.</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    // kill(2): 0 on success, -1 with errno (ESRCH: no such process, EPERM: not ours).
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
