using System.Collections.Immutable;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Drives;

// Node-local questions to the drive directory (never cross the network, so not serialized).

/// <summary>Which drives should hold <paramref name="Groups"/> new segment groups of <paramref name="Legs"/> legs each.</summary>
internal sealed record PlanGroups(int Groups, int Legs, string DriveClass, FailureDomainLevel Spread);

/// <summary>Which drive should hold a new leg beside <paramref name="Survivors"/>, never <paramref name="Lost"/>.</summary>
internal sealed record PlanReplacement(ImmutableArray<DriveId> Survivors, DriveId Lost, string DriveClass, FailureDomainLevel Spread);

/// <summary>A plan: drives per group per leg; empty with a reason when the cluster cannot hold it.</summary>
internal sealed record PlacementPlan(ImmutableArray<ImmutableArray<DriveId>> Groups, string? Refusal);

/// <summary>The directory's latest view of these drives (unknown drives are left out).</summary>
internal sealed record ResolveDrives(ImmutableArray<DriveId> Drives);

internal sealed record ResolvedDrives(ImmutableDictionary<DriveId, DriveView> Views);

/// <summary>Every drive the directory knows.</summary>
public sealed record ListDrives;

public sealed record DriveList(ImmutableArray<DriveView> Drives);

/// <summary>Planned capacity handed back (a plan that could not be allocated).</summary>
internal sealed record ReturnPlan(ImmutableArray<DriveId> Drives);
