namespace Shoal.DataPath.Wire;

/// <summary>A wire-level failure with the status that describes it.</summary>
public sealed class WireException(WireStatus status, string message) : Exception(message)
{
    public WireStatus Status { get; } = status;
}
