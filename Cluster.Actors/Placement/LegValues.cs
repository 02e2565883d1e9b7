using System.Runtime.CompilerServices;

namespace Shoal.Actors.Placement;

/// <summary>One value per leg count (index 1..3; 0 unused), stored inline in the team rather than in a separate array.</summary>
[InlineArray(PlacementLimits.MaxLegs + 1)]
internal struct LegValues<T>
{
    private T _first;
}
