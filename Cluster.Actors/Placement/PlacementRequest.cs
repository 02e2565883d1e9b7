namespace Shoal.Actors.Placement;

/// <summary>
/// Place <see cref="Groups"/> segment groups (stripe width × sets) of <see cref="Legs"/> legs each (1 concat or stripe,
/// 2 or 3 mirror) on drives of <see cref="DriveClass"/>, no two legs of a group sharing a domain at <see cref="Spread"/>.
/// Each leg takes <see cref="SegmentsPerLeg"/> segments on its drive: 1 for the data path's one-segment groups, more
/// when a caller places a run of consecutive groups on the same drives as one unit.
/// </summary>
public sealed record PlacementRequest(int Groups, int Legs, string DriveClass, FailureDomainLevel Spread, int SegmentsPerLeg = 1);
