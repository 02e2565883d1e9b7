using System.Collections.Immutable;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Agents;

/// <summary>A histogram's per-bucket counts, as the agents' stats carry them.</summary>
internal static class LatencyBuckets
{
    public static ImmutableArray<long> Of(LatencyHistogram h)
    {
        var b = ImmutableArray.CreateBuilder<long>(LatencyHistogram.BoundedBuckets + 1);
        for (int i = 0; i <= LatencyHistogram.BoundedBuckets; i++)
        {
            b.Add(h.Count(i));
        }
        return b.MoveToImmutable();
    }
}
