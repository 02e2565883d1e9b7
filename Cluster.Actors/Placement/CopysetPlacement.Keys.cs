namespace Shoal.Actors.Placement;

// The balance keys: a member's is its emptiest drive's free share, a team's (per leg count L) is its L-th emptiest
// member's. Placing where that is largest puts each group where its fullest leg is least full.
public sealed partial class CopysetPlacement
{
    /// <summary>Finds the member's emptiest drive; true when its free share changed.</summary>
    private bool UpdateBest(TeamMember member)
    {
        long best = -1;
        int bestSlot = -1;
        foreach (int slot in member.Drives)
        {
            long fraction = _view.Drive(slot).FreeFraction;
            if (fraction > best)
            {
                best = fraction;
                bestSlot = slot;
            }
        }
        best = Math.Max(best, 0);
        member.BestSlot = bestSlot;
        if (best == member.BestFraction)
        {
            return false;
        }
        member.BestFraction = best;
        return true;
    }

    /// <summary>After a member's drives filled or emptied: re-key its teams.</summary>
    private void RefreshFraction(TeamMember member)
    {
        if (!UpdateBest(member))
        {
            return;
        }
        foreach (CopysetTeam team in member.Teams)
        {
            for (int legs = 1; legs <= CopysetTeam.Size; legs++)
            {
                int level = team.HeapLevel[legs];
                long key = KeyOf(team, legs);
                if (level >= 0 && key != team.Key[legs])
                {
                    team.Key[legs] = key;
                    team.Pool.Heaps[legs, level].Update(team);
                }
            }
        }
    }

    /// <summary>After a team's members or their labels or drive counts changed: move it to the heaps it now belongs in.</summary>
    private static void RefreshTeam(CopysetTeam team)
    {
        for (int legs = 1; legs <= CopysetTeam.Size; legs++)
        {
            int level = EligibleLevel(team, legs);
            int old = team.HeapLevel[legs];
            if (old >= 0 && old != level)
            {
                team.Pool.Heaps[legs, old].Remove(team);
                team.HeapLevel[legs] = -1;
            }
            team.Key[legs] = KeyOf(team, legs);
            if (level < 0)
            {
                continue;
            }
            if (team.HeapLevel[legs] == level)
            {
                team.Pool.Heaps[legs, level].Update(team);
            }
            else
            {
                team.Pool.Heaps[legs, level].Insert(team);
                team.HeapLevel[legs] = level;
            }
        }
    }

    private static long KeyOf(CopysetTeam team, int legs)
    {
        if (team.Count == 0)
        {
            return -1;
        }
        // The L-th largest of at most three values; a team with fewer members (Drive spread) uses its fullest.
        long a = team.Members[0].BestFraction;
        long b = team.Count > 1 ? team.Members[1].BestFraction : long.MaxValue;
        long c = team.Count > 2 ? team.Members[2].BestFraction : long.MaxValue;
        long high = Math.Max(a, Math.Max(b == long.MaxValue ? a : b, c == long.MaxValue ? a : c));
        long low = Math.Min(a, Math.Min(b, c));
        if (legs == 1 || team.Count == 1)
        {
            return legs == 1 ? high : low;
        }
        if (legs >= team.Count)
        {
            return low;
        }
        // Two of three: the middle value.
        return a + b + c - high - low;
    }

    /// <summary>The strongest level at which the team can hold a group of <paramref name="legs"/> legs, or -1.</summary>
    private static int EligibleLevel(CopysetTeam team, int legs)
    {
        if (!team.Live || team.Count == 0)
        {
            return -1;
        }
        if (legs == 1)
        {
            return (int)FailureDomainLevel.Zone;
        }
        if (team.Count >= legs)
        {
            // legs == 2: some pair apart at the level; legs == 3 (a full team): every pair apart.
            bool all = legs == CopysetTeam.Size;
            for (FailureDomainLevel level = FailureDomainLevel.Zone; level > FailureDomainLevel.Node; level--)
            {
                if (PairsApart(team, level, all))
                {
                    return (int)level;
                }
            }
            return (int)FailureDomainLevel.Node;
        }
        return team.DriveCount() >= legs ? (int)FailureDomainLevel.Drive : -1;
    }

    private static bool PairsApart(CopysetTeam team, FailureDomainLevel level, bool all)
    {
        bool any = false;
        for (int i = 0; i < team.Count; i++)
        {
            for (int j = i + 1; j < team.Count; j++)
            {
                TeamMember a = team.Members[i];
                TeamMember b = team.Members[j];
                bool apart = level == FailureDomainLevel.Zone ? a.Zone != b.Zone : a.Rack != b.Rack;
                if (apart)
                {
                    any = true;
                }
                else if (all)
                {
                    return false;
                }
            }
        }
        return any;
    }
}
