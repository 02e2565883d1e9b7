namespace Shoal.Host.Cli;

/// <summary>Process log: one line per event on stderr, with a UTC timestamp and the component.</summary>
internal static class Log
{
    private static readonly object s_gate = new();

    public static Action<string> For(string component) => message => Write(component, message);

    public static void Write(string component, string message)
    {
        lock (s_gate)
        {
            Console.Error.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {component}: {message}");
        }
    }

    /// <summary>A machine-readable line on stdout (readiness, results) that scripts and tests wait for.</summary>
    public static void Announce(string line)
    {
        lock (s_gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
