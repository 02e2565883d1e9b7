namespace Shoal.Actors.Placement;

/// <summary>
/// A copyset: up to <see cref="Size"/> nodes whose drives hold every leg of every group placed on it. A group of L
/// legs takes L of its members (or, at Drive spread, L distinct drives among them).
/// </summary>
internal sealed class CopysetTeam
{
    public CopysetTeam(CopysetPool pool)
    {
        Pool = pool;
        for (int legs = 0; legs <= Size; legs++)
        {
            HeapLevel[legs] = -1;
            HeapSlot[legs] = -1;
        }
    }

    public const int Size = PlacementLimits.MaxLegs;

    public CopysetPool Pool { get; }

    public TeamMember[] Members { get; } = new TeamMember[Size];

    public int Count { get; set; }

    /// <summary>Per leg count (index 1..3): the heap level it sits in (a <see cref="FailureDomainLevel"/>), or -1.</summary>
    public LegValues<int> HeapLevel;

    /// <summary>Per leg count: position in that heap.</summary>
    public LegValues<int> HeapSlot;

    /// <summary>Per leg count: the L-th emptiest member's <see cref="TeamMember.BestFraction"/> (larger is emptier).</summary>
    public LegValues<long> Key;

    public bool Live { get; set; } = true;

    public bool Listed { get; set; }

    public bool Contains(TeamMember member)
    {
        for (int i = 0; i < Count; i++)
        {
            if (Members[i] == member)
            {
                return true;
            }
        }
        return false;
    }

    public int DriveCount()
    {
        int drives = 0;
        for (int i = 0; i < Count; i++)
        {
            drives += Members[i].Drives.Count;
        }
        return drives;
    }
}
