using System.Collections.Immutable;

namespace Shoal.Actors.Maintenance;

/// <summary>
/// One node's turn in a rolling upgrade: why it comes where it does, how many legs it holds (each a delta resync
/// after its restart), whether it is in maintenance now, and what would refuse its maintenance right now.
/// </summary>
public sealed record UpgradeStep(int Order, string Node, ImmutableArray<string> Roles, int Legs, bool InMaintenance, string Reason, ImmutableArray<string> Refusals);
