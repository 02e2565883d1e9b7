using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

// Commands to a volume entity. Never persisted. Commit* commands are sent by the entity to itself once the
// work that cannot be pure (placement, segment allocation on drive entities) is done.

public sealed record CreateVolume(VolumeName Volume, VolumeSpec Spec) : IVolumeCommand;

public sealed record CommitCreate(VolumeName Volume, VolumeUid Uid, VolumeSpec Spec, long SegmentBytes, int RegionBytes, ImmutableArray<GroupInfo> Groups) : IVolumeCommand;

public sealed record GrowVolume(VolumeName Volume, long SizeBytes) : IVolumeCommand;

public sealed record CommitGrow(VolumeName Volume, long SizeBytes, ImmutableArray<GroupInfo> AddedGroups) : IVolumeCommand;

/// <summary>Refused while attached.</summary>
public sealed record DeleteVolume(VolumeName Volume) : IVolumeCommand;

/// <summary>The drive entities recorded the release of these segments (their targets wipe them).</summary>
public sealed record AcknowledgeRelease(VolumeName Volume, ImmutableArray<SegmentRef> Segments) : IVolumeCommand;

/// <summary>A client engine attaches. A second writer is refused unless <paramref name="Force"/>, which detaches and fences the first.</summary>
public sealed record AttachVolume(VolumeName Volume, NodeId Client, WriterId Writer, AttachMode Mode, bool Force) : IVolumeCommand;

public sealed record DetachVolume(VolumeName Volume, WriterId Writer) : IVolumeCommand;

/// <summary>The writer's engine saw a leg fail; the answer comes only after the survivors are fenced at the new epoch.</summary>
public sealed record ReportLegFailed(VolumeName Volume, WriterId Writer, int Group, int Leg, string Reason, LegAddress? At = null) : IVolumeCommand;

/// <summary>The entity itself could not fence a leg at a new epoch: the leg is treated as failed.</summary>
public sealed record LegUnfenceable(VolumeName Volume, ulong Epoch, int Group, int Leg, string Reason) : IVolumeCommand;

// The writer's leg reports name the segment they are about (At) when they can: one that names a replaced segment is
// refused. Without At (an older writer) the report applies to whatever segment the leg has now.

/// <summary>A stale leg's target answers again: start a delta resync (or resume a full rebuild).</summary>
public sealed record ReportLegReturned(VolumeName Volume, WriterId Writer, int Group, int Leg, LegAddress? At = null) : IVolumeCommand;

public sealed record ReportRebuildProgress(VolumeName Volume, WriterId Writer, int Group, int Leg, long DoneBytes, LegAddress? At = null) : IVolumeCommand;

public sealed record ReportLegResynced(VolumeName Volume, WriterId Writer, int Group, int Leg, LegAddress? At = null) : IVolumeCommand;

/// <summary>A drive holding legs of this volume went out or failed: its legs are to be replaced.</summary>
public sealed record DriveLost(VolumeName Volume, DriveId Drive) : IVolumeCommand;

/// <summary>
/// The operator empties the drive: each of the volume's legs on it gets a replacement elsewhere and a full rebuild,
/// except a leg that is its group's last in-sync one (it moves once another leg is in sync).
/// </summary>
public sealed record EvacuateDrive(VolumeName Volume, DriveId Drive) : IVolumeCommand;

public sealed record CommitReplaceLeg(VolumeName Volume, int Group, int Leg, LegInfo Replacement) : IVolumeCommand;

public sealed record GetVolume(VolumeName Volume) : IVolumeCommand;
