using System.Collections.Immutable;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>
/// Find a drive for a new leg of one segment group: <see cref="Survivors"/> are the drives of its remaining legs,
/// <see cref="Failed"/> the drive of the leg being replaced (never chosen again).
/// </summary>
public sealed record ReplacementRequest(ImmutableArray<DriveId> Survivors, DriveId Failed, string DriveClass, FailureDomainLevel Spread, int SegmentsPerLeg = 1);
