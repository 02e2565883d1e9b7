using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

// Commands to a drive entity. Never persisted.

/// <summary>A target agent found (or formatted) the drive at start; also re-sent after every agent restart.</summary>
public sealed record RegisterDrive(DriveId Drive, DriveInventory Inventory) : IDriveCommand;

/// <summary>The target agent's periodic sign of life for one of its drives.</summary>
public sealed record DriveHeartbeat(DriveId Drive, NodeId Node) : IDriveCommand;

/// <summary>The data path saw the drive fail I/O (an io-error status from its target).</summary>
public sealed record ReportDriveError(DriveId Drive, string Reason) : IDriveCommand;

/// <summary>Cluster membership: the drive's node is unreachable or gone.</summary>
public sealed record NodeUnreachable(DriveId Drive, NodeId Node) : IDriveCommand;

/// <summary>The entity's own health timer: <paramref name="LastHeartbeatAt"/> is when it last heard from the target agent.</summary>
public sealed record CheckDriveHealth(DriveId Drive, DateTimeOffset LastHeartbeatAt) : IDriveCommand;

/// <summary>Allocate one segment per owner, all or none. Idempotent: an owner that already holds a segment gets it again.</summary>
public sealed record AllocateSegments(DriveId Drive, ImmutableArray<SegmentOwner> Owners) : IDriveCommand;

/// <summary>A volume gives segments back; they stay reserved until the target confirms their metadata is wiped.</summary>
public sealed record ReleaseSegments(DriveId Drive, VolumeUid Uid, ImmutableArray<uint> Segments) : IDriveCommand;

/// <summary>The target agent wiped these segments' metadata: they are free.</summary>
public sealed record ConfirmSegmentsReleased(DriveId Drive, ImmutableArray<uint> Segments) : IDriveCommand;

/// <summary>The operator declares the drive broken.</summary>
public sealed record FailDrive(DriveId Drive, string Reason) : IDriveCommand;

/// <summary>The operator takes the drive out of the cluster; refused while segments are allocated unless forced.</summary>
public sealed record RemoveDrive(DriveId Drive, bool Force) : IDriveCommand;

public sealed record GetDrive(DriveId Drive) : IDriveCommand;

/// <summary>The operator starts (or stops) emptying the drive: no new segments while draining.</summary>
public sealed record SetDriveDraining(DriveId Drive, bool Draining) : IDriveCommand;

/// <summary>
/// The operator puts the drive's node into maintenance (a planned restart) or takes it out: while in maintenance the
/// out-after clock is held and no new segments are placed on the drive. Leaving is refused until the drive is online.
/// </summary>
public sealed record SetDriveMaintenance(DriveId Drive, bool Maintenance) : IDriveCommand;
