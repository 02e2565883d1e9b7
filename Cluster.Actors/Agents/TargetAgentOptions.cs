using Shoal.Actors.Protocol;

namespace Shoal.Actors.Agents;

/// <summary>What a target agent says of its node's drives when it registers them.</summary>
public sealed record TargetAgentOptions(NodeId Node, FailureDomain Domain, string DriveClass, string DataEndpoint)
{
    /// <summary>How often every drive's heartbeat goes to its entity (the drive entities' suspect-after is 5×).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Opens a drive added while the node runs (path, bytes to create or 0) — formatting it, and remembering it for the
    /// node's next start. Null: this target takes no drives at run time. Called off the actor's thread; throws
    /// <see cref="InvalidOperationException"/> or <see cref="IOException"/> with the reason.
    /// </summary>
    public Func<string, long, Shoal.DataPath.Drives.DriveStore>? OpenDrive { get; init; }
}
