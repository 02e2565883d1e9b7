namespace Shoal.Host.Attach;

/// <summary>An attach or detach that cannot be done here; one line for the operator, exit 1.</summary>
internal sealed class AttachException(string message) : Exception(message);
