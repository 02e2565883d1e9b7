using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Tests.Placement;

/// <summary>One group as the test ledger recorded it; a removed drive's leg reads as <c>default</c> until replaced.</summary>
internal sealed record PlacedGroup(DriveId[] Legs, FailureDomainLevel Spread, int SegmentsPerLeg);
