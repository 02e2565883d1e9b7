namespace Shoal.Actors.Placement;

/// <summary>One node's drives of one class: the unit that <see cref="CopysetTeam"/>s are made of.</summary>
internal sealed class TeamMember(CopysetPool pool, int node, int rack, int zone)
{
    public CopysetPool Pool { get; } = pool;

    public int Node { get; } = node;

    public int Rack { get; set; } = rack;

    public int Zone { get; set; } = zone;

    /// <summary>Slots of this node's drives of the pool's class.</summary>
    public List<int> Drives { get; } = [];

    public List<CopysetTeam> Teams { get; } = [];

    /// <summary>Drives on the other members of this member's teams: the most peers one of its drives could reach.</summary>
    public int PotentialPeers { get; set; }

    /// <summary>Free share of the emptiest drive (<see cref="PlacementView.FractionScale"/> units): the balance key.</summary>
    public long BestFraction { get; set; }

    /// <summary>That emptiest drive's slot, or -1: the first (usually the only) drive a placement looks at here.</summary>
    public int BestSlot { get; set; } = -1;

    /// <summary>Index in <see cref="CopysetPool.Members"/>, or in <see cref="CopysetPool.Pending"/> while teamless.</summary>
    public int PoolPosition { get; set; }

    public int PendingPosition { get; set; } = -1;

    public bool Live { get; set; } = true;
}
