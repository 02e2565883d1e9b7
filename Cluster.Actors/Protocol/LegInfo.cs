using Shoal.DataPath.Volume;

namespace Shoal.Actors.Protocol;

/// <summary>One leg of a segment group: the segment, the data-path target and drive index serving it, its state.</summary>
public sealed record LegInfo(SegmentRef Segment, NodeId Target, uint TargetDrive, LegState State, RebuildProgress? Rebuild);
