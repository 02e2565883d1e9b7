using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

// Persisted facts about a volume. Every event that carries an Epoch sets the volume's epoch to it.

public sealed record VolumeCreated(VolumeName Volume, VolumeUid Uid, VolumeSpec Spec, long SegmentBytes, int RegionBytes, ImmutableArray<GroupInfo> Groups, ulong Epoch, DateTimeOffset At) : IVolumeEvent;

public sealed record VolumeGrown(VolumeName Volume, long SizeBytes, ImmutableArray<GroupInfo> AddedGroups, ulong Epoch) : IVolumeEvent;

public sealed record VolumeAttached(VolumeName Volume, Attachment Attachment, ulong Epoch) : IVolumeEvent;

public sealed record VolumeDetached(VolumeName Volume, WriterId Writer, bool Forced, ulong Epoch) : IVolumeEvent;

public sealed record LegMarkedStale(VolumeName Volume, int Group, int Leg, string Reason, ulong Epoch) : IVolumeEvent;

public sealed record LegRebuildStarted(VolumeName Volume, int Group, int Leg, RebuildProgress Progress, ulong Epoch) : IVolumeEvent;

public sealed record LegReplaced(VolumeName Volume, int Group, int Leg, LegInfo Replacement, SegmentRef Replaced, ulong Epoch) : IVolumeEvent;

public sealed record RebuildCheckpointed(VolumeName Volume, int Group, int Leg, long DoneBytes, DateTimeOffset At) : IVolumeEvent;

public sealed record LegInSync(VolumeName Volume, int Group, int Leg, ulong Epoch) : IVolumeEvent;

public sealed record VolumeDeletionStarted(VolumeName Volume, ulong Epoch) : IVolumeEvent;

public sealed record VolumeSegmentsReleased(VolumeName Volume, ImmutableArray<SegmentRef> Segments) : IVolumeEvent;

public sealed record VolumeDeleted(VolumeName Volume, DateTimeOffset At) : IVolumeEvent;
