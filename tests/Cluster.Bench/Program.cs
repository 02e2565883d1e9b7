using System.Runtime.InteropServices;

namespace Shoal.Bench;

/// <summary>Entry point: exit 0 with reports written, 1 on a failed run, 2 on bad usage, 130 when interrupted.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        BenchOptions? options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"Shoal.Bench: {e.Message}\n\n{BenchOptions.Usage}");
            return 2;
        }
        if (options == null)
        {
            Console.Out.Write(BenchOptions.Usage);
            return 0;
        }

        // Ctrl-C and SIGTERM cancel the run instead of ending the process, so the finally blocks stop every server.
        using var cancel = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            cancel.Cancel();
        }
        using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

        try
        {
            await new BenchRunner(options, HarnessArgs(args), Log).RunAsync(cancel.Token).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine("Shoal.Bench: interrupted; servers stopped, no report written");
            return 130;
        }
        catch (BenchException e)
        {
            Console.Error.WriteLine($"Shoal.Bench: {e.Message}");
            return 1;
        }
        catch (Exception e)
        {
            // Caught (not left unhandled) so that the runner's finally blocks are guaranteed to run.
            Console.Error.WriteLine($"Shoal.Bench: unexpected failure: {e}");
            return 1;
        }
    }

    private static void Log(string message) => Console.Error.WriteLine($"[bench {DateTime.UtcNow:HH:mm:ss}] {message}");

    /// <summary>
    /// The options that shape the figures, for the report. Where files go does not, and --repo is
    /// always added by build.ps1, so those are left out.
    /// </summary>
    private static string HarnessArgs(string[] args)
    {
        string[] placement = ["--repo", "--out-json", "--out-md"];
        var kept = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (placement.Contains(args[i]))
            {
                i++;
                continue;
            }
            if (placement.Any(p => args[i].StartsWith(p + "=", StringComparison.Ordinal)))
            {
                continue;
            }
            kept.Add(args[i]);
        }
        return string.Join(' ', kept);
    }
}
