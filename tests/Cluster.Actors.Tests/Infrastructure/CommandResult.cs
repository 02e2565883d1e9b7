namespace Shoal.Actors.Tests.Infrastructure;

/// <summary>How a system tool ended: the command line, its exit code and its stdout and stderr interleaved.</summary>
public sealed record CommandResult(string CommandLine, int ExitCode, string Output)
{
    /// <summary>True when the tool exited with 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>The last <paramref name="lines"/> lines of output, for error messages.</summary>
    public string Tail(int lines = 20) => string.Join('\n', Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));

    public override string ToString() => $"'{CommandLine}' exited with {ExitCode}:\n{Tail()}";
}
