using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

/// <summary>A drive entity's state as the operator and the placement view see it.</summary>
public sealed record DriveView(
    DriveId Drive,
    DriveStatus Status,
    DriveInventory? Inventory,
    DateTimeOffset StatusSince,
    int FreeSegments,
    ImmutableArray<AllocatedSegment> Allocated,
    ImmutableArray<AllocatedSegment> Releasing,
    int ErrorCount,
    string? LastError,
    bool Draining,
    DateTimeOffset? MaintenanceSince = null);
