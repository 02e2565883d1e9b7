namespace Shoal.Bench;

/// <summary>A failure the operator can act on (missing tool, busy port, a server that never became ready); printed without a stack trace.</summary>
internal sealed class BenchException(string message) : Exception(message);
