namespace Shoal.Actors.Placement;

/// <summary>The teams of one drive class: its members, the teamless ones waiting, and the heaps placement draws from.</summary>
internal sealed class CopysetPool
{
    public CopysetPool(int driveClass)
    {
        DriveClass = driveClass;
        for (int legs = 1; legs <= PlacementLimits.MaxLegs; legs++)
        {
            for (int level = 0; level <= (int)FailureDomainLevel.Zone; level++)
            {
                Heaps[legs, level] = new TeamHeap(legs);
            }
        }
    }

    /// <summary>The interned class these teams are made of.</summary>
    public int DriveClass { get; }

    public List<TeamMember> Members { get; } = [];

    /// <summary>Members in no team yet (new nodes); teamed at the next placement, in one batch.</summary>
    public List<TeamMember> Pending { get; } = [];

    /// <summary>Teams short of members (small cluster, a member removed): they recruit at the next placement.</summary>
    public List<CopysetTeam> Incomplete { get; } = [];

    /// <summary>[legs, level]: the teams that can hold a group of that many legs with the level as their strongest spread.</summary>
    public TeamHeap[,] Heaps { get; } = new TeamHeap[PlacementLimits.MaxLegs + 1, (int)FailureDomainLevel.Zone + 1];

    /// <summary>Members per zone and per rack, to know which spreads the pool could still reach.</summary>
    public Dictionary<int, int> MembersPerZone { get; } = [];

    public Dictionary<int, int> MembersPerRack { get; } = [];

    /// <summary>Membership changed since teams were last formed.</summary>
    public bool Dirty { get; set; }
}
