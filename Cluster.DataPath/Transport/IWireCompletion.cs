using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Transport;

/// <summary>
/// Receives the outcome of a request sent on a <see cref="TargetLink"/>. Called on the link's
/// receive thread (or on the thread that found the link closed); must not block for long.
/// </summary>
public interface IWireCompletion
{
    void OnWireComplete(int tag, WireStatus status, in WireHeader reply);
}
