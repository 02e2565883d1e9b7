using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

// Persisted facts about a drive.

public sealed record DriveRegistered(DriveId Drive, DriveInventory Inventory, DateTimeOffset At) : IDriveEvent;

public sealed record DriveInventoryUpdated(DriveId Drive, DriveInventory Inventory, DateTimeOffset At) : IDriveEvent;

public sealed record DriveStatusChanged(DriveId Drive, DriveStatus From, DriveStatus To, string Reason, DateTimeOffset At) : IDriveEvent;

public sealed record DriveErrorRecorded(DriveId Drive, string Reason, DateTimeOffset At) : IDriveEvent;

public sealed record SegmentsAllocated(DriveId Drive, ImmutableArray<AllocatedSegment> Segments) : IDriveEvent;

public sealed record SegmentReleaseStarted(DriveId Drive, ImmutableArray<uint> Segments) : IDriveEvent;

public sealed record SegmentsReleased(DriveId Drive, ImmutableArray<uint> Segments) : IDriveEvent;

public sealed record DriveDrainingChanged(DriveId Drive, bool Draining, DateTimeOffset At) : IDriveEvent;

/// <summary>Maintenance entered or left (by the operator, or when the maintenance window ended).</summary>
public sealed record DriveMaintenanceChanged(DriveId Drive, bool Maintenance, string Reason, DateTimeOffset At) : IDriveEvent;
