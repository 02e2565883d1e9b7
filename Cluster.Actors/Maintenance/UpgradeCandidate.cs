using System.Collections.Immutable;

namespace Shoal.Actors.Maintenance;

/// <summary>A cluster member as the upgrade planner sees it: its node name, function roles, and whether it is the oldest member.</summary>
public sealed record UpgradeCandidate(string Node, ImmutableArray<string> Roles, bool Oldest);
