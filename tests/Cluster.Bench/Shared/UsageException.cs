namespace Shoal.Bench.Shared;

/// <summary>Bad command line: the harness prints the message and the usage and exits with code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
