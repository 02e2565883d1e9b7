namespace Shoal.Host.Cli;

/// <summary>A usage or validation error: printed as one line, exit code 2.</summary>
internal sealed class CliException(string message) : Exception(message);
