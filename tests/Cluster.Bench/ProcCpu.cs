using System.Globalization;

namespace Shoal.Bench;

/// <summary>
/// CPU time of a whole process (all threads, live and exited) from <c>/proc/PID/stat</c>. The same
/// source for every system, so shoal, nbdkit and qemu-nbd are charged alike; its 10 ms tick is
/// small against a measured window of seconds.
/// </summary>
internal static class ProcCpu
{
    private static readonly Lazy<long> s_ticksPerSecond = new(ReadClockTicks);

    public static long TicksPerSecond => s_ticksPerSecond.Value;

    public static long ReadMicros(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            throw new BenchException($"process {pid} is gone (reading /proc/{pid}/stat: {e.Message})");
        }
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        long ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 1_000_000 / TicksPerSecond;
    }

    private static long ReadClockTicks()
    {
        (int exit, string output, _) = Tools.Run("getconf", ["CLK_TCK"], TimeSpan.FromSeconds(10));
        if (exit != 0 || !long.TryParse(output.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long ticks) || ticks <= 0)
        {
            throw new BenchException($"getconf CLK_TCK failed (exit {exit}): {output.Trim()}");
        }
        return ticks;
    }
}
