using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

/// <summary>A volume entity's state as clients and operators see it.</summary>
public sealed record VolumeView(
    VolumeName Volume,
    VolumeUid Uid,
    VolumeStatus Status,
    VolumeSpec? Spec,
    long SegmentBytes,
    int RegionBytes,
    ulong Epoch,
    WriterId Writer,
    ImmutableArray<Attachment> Attachments,
    ImmutableArray<GroupInfo> Groups,
    ImmutableArray<SegmentRef> Releasing);
