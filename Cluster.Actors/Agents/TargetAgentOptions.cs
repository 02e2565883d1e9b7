using Shoal.Actors.Protocol;

namespace Shoal.Actors.Agents;

/// <summary>What a target agent says of its node's drives when it registers them.</summary>
public sealed record TargetAgentOptions(NodeId Node, FailureDomain Domain, string DriveClass, string DataEndpoint)
{
    /// <summary>How often every drive's heartbeat goes to its entity (the drive entities' suspect-after is 5×).</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);
}
