using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Agents;

/// <summary>
/// What a node's client agent needs: who it is, where it keeps its writer ids, the cluster key for the data path,
/// the engines' options and how its NBD exports are reached (<paramref name="NbdUriFormat"/>, with {0} for the export
/// name: <c>nbd://HOST:PORT/{0}</c> or <c>nbd+unix:///{0}?socket=PATH</c>).
/// </summary>
public sealed record ClientAgentOptions(NodeId Node, string DataDir, ClusterKey Key, EngineOptions Engine, string NbdUriFormat)
{
    /// <summary>How long one question to the volume entity or drive directory may take.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Most volumes one node attaches at once.</summary>
    public int MaxAttached { get; init; } = 256;

    /// <summary>
    /// Told of each attach that succeeded (true) and each detach (false), on the agent's thread: the node keeps the
    /// list in its data directory and attaches those volumes again when it restarts.
    /// </summary>
    public Action<VolumeName, bool>? Remember { get; init; }
}
