using System.Collections.Immutable;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Protocol;

/// <summary>A range of the volume held by one segment per leg.</summary>
public sealed record GroupInfo(ImmutableArray<LegInfo> Legs)
{
    public int InSyncCount
    {
        get
        {
            int n = 0;
            foreach (LegInfo leg in Legs)
            {
                n += leg.State == LegState.InSync ? 1 : 0;
            }
            return n;
        }
    }
}
