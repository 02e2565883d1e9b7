using Shoal.DataPath.Volume;

namespace Shoal.Actors.Protocol;

/// <summary>
/// Which segment a leg report is about, as the writer's layout names it (target node, its drive index, segment).
/// A report that waited while the leg was replaced names the old segment, and is refused rather than applied to the new one.
/// </summary>
public readonly record struct LegAddress(NodeId Target, uint TargetDrive, uint Segment)
{
    public static LegAddress Of(LegInfo leg) => new(leg.Target, leg.TargetDrive, leg.Segment.Segment);

    public static LegAddress Of(LegSegment leg) => new(new NodeId(leg.Target), leg.Drive, leg.Segment);
}
