using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>
/// One drive as placement sees it. Capacity is counted in fixed-size segments (64 MiB by default); which segment
/// numbers a leg gets is the drive entity's business, not placement's. A drive that must take no new legs (suspect,
/// draining) is upserted with <see cref="FreeSegments"/> = 0; one that is gone is removed.
/// </summary>
public sealed record PlacementDrive(DriveId Id, FailureDomain Domain, string DriveClass, int TotalSegments, int FreeSegments);
