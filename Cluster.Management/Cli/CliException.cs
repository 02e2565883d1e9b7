namespace Shoal.Management.Cli;

/// <summary>A usage or validation error: printed as one line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
