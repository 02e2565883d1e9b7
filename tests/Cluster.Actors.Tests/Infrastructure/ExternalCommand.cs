using System.Diagnostics;
using System.Text;

namespace Shoal.Actors.Tests.Infrastructure;

/// <summary>Runs a system tool to completion with a time limit and returns its exit code and combined output.</summary>
public static class ExternalCommand
{
    /// <summary>Runs <paramref name="fileName"/>; kills it and throws <see cref="TimeoutException"/> past <paramref name="timeout"/>.</summary>
    public static async Task<CommandResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        if (environment is not null)
        {
            foreach (var (key, value) in environment)
                start.Environment[key] = value;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {fileName}");
        process.StandardInput.Close();
        var output = new StringBuilder();
        var stdout = PumpAsync(process.StandardOutput, output);
        var stderr = PumpAsync(process.StandardError, output);
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Describe(fileName, arguments)} did not finish within {timeout.TotalSeconds} s; output so far:\n{Snapshot(output)}");
        }
        await Task.WhenAll(stdout, stderr);
        return new CommandResult(Describe(fileName, arguments), process.ExitCode, Snapshot(output));
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder sink)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (sink)
                sink.AppendLine(line);
        }
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
            return output.ToString();
    }

    private static string Describe(string fileName, IReadOnlyList<string> arguments) => fileName + " " + string.Join(' ', arguments);
}
