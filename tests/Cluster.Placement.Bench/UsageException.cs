namespace Shoal.Placement.Bench;

/// <summary>A bad command line: reported with the usage text, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
