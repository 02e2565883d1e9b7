namespace Shoal.Actors.Placement;

// Team formation and upkeep. Teams are formed lazily (at the first placement after membership changed), so a
// cluster brought up drive by drive is teamed in one batch with the best spread its domains allow, and later
// arrivals team with each other before they lean on existing nodes.
public sealed partial class CopysetPlacement
{
    /// <summary>Teams one node may belong to; the peer budget usually stops it at two first.</summary>
    private const int MaxTeamsPerNode = 4;

    /// <summary>Random members looked at per recruit, beside the teamless ones.</summary>
    private const int RecruitSamples = 48;

    /// <summary>Teamless members looked at per recruit (all of them when fewer).</summary>
    private const int MaxPendingScanned = 256;

    /// <summary>Whole-pool scans per formation round, for recruits that sampling could not place well.</summary>
    private const int MaxFullScansPerFormation = 16;

    private void FormTeams(CopysetPool pool)
    {
        if (!pool.Dirty)
        {
            return;
        }
        int scans = MaxFullScansPerFormation;
        // 1. Teams short of a member (a node removed, a cluster smaller than a team) recruit first.
        for (int i = 0; i < pool.Incomplete.Count; i++)
        {
            CopysetTeam team = pool.Incomplete[i];
            if (team.Live && team.Count < CopysetTeam.Size)
            {
                Recruit(pool, team, ref scans);
            }
        }
        // 2. New nodes team with each other — one from each of the three zones with the most of them left, then (a
        //    zone arriving alone) from three racks — so new capacity fills through its own teams rather than at
        //    the pace of the full nodes it would otherwise be teamed with.
        var belowZone = new List<TeamMember>();
        FormBatch(pool, FailureDomainLevel.Zone, belowZone);
        FormBatch(pool, FailureDomainLevel.Rack, belowZone);
        // 3. The rest (too few racks among the new nodes) recruit partners wherever the best spread is.
        while (pool.Pending.Count > 0)
        {
            CopysetTeam team = NewTeam(pool);
            AddMember(team, pool.Pending[^1]);
            Recruit(pool, team, ref scans);
        }
        // 4. Nodes teamed only within a zone, in a pool that spans three, also take a zone-apart team if the peer
        //    budget allows, so that zone-spread groups can use them too.
        foreach (TeamMember member in belowZone)
        {
            if (member.Live && member.Teams.Count < MaxTeamsPerNode && member.PotentialPeers < MaxPeers)
            {
                CopysetTeam team = NewTeam(pool);
                AddMember(team, member);
                Recruit(pool, team, ref scans);
                if (EligibleLevel(team, 2) < (int)FailureDomainLevel.Zone)
                {
                    Dissolve(team);
                }
            }
        }
        pool.Incomplete.RemoveAll(team =>
        {
            team.Listed = team.Live && team.Count < CopysetTeam.Size;
            return !team.Listed;
        });
        pool.Dirty = false;
    }

    /// <summary>
    /// Teams the new nodes three at a time, each from a different domain at <paramref name="level"/>, always from the
    /// three domains with the most new nodes left (so none is stranded alone at the end). Members of teams that end
    /// below zone spread in a pool that has three zones go to <paramref name="belowZone"/>.
    /// </summary>
    private void FormBatch(CopysetPool pool, FailureDomainLevel level, List<TeamMember> belowZone)
    {
        if (pool.Pending.Count < CopysetTeam.Size)
        {
            return;
        }
        var byDomain = new Dictionary<int, List<TeamMember>>();
        foreach (TeamMember member in pool.Pending)
        {
            int key = level == FailureDomainLevel.Zone ? member.Zone : member.Rack;
            if (!byDomain.TryGetValue(key, out List<TeamMember>? domain))
            {
                domain = [];
                byDomain.Add(key, domain);
            }
            domain.Add(member);
        }
        if (byDomain.Count < CopysetTeam.Size)
        {
            return;
        }
        var largestFirst = new PriorityQueue<List<TeamMember>, int>(byDomain.Count);
        foreach (List<TeamMember> domain in byDomain.Values)
        {
            _random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(domain));
            largestFirst.Enqueue(domain, -domain.Count);
        }
        bool poolSpansZones = pool.MembersPerZone.Count >= CopysetTeam.Size;
        var picked = new List<TeamMember>[CopysetTeam.Size];
        while (largestFirst.Count >= CopysetTeam.Size)
        {
            CopysetTeam team = NewTeam(pool);
            for (int i = 0; i < CopysetTeam.Size; i++)
            {
                picked[i] = largestFirst.Dequeue();
                AddMember(team, picked[i][^1]);
                picked[i].RemoveAt(picked[i].Count - 1);
            }
            foreach (List<TeamMember> domain in picked)
            {
                if (domain.Count > 0)
                {
                    largestFirst.Enqueue(domain, -domain.Count);
                }
            }
            if (poolSpansZones && EligibleLevel(team, CopysetTeam.Size) < (int)FailureDomainLevel.Zone)
            {
                belowZone.AddRange(team.Members);
            }
        }
    }

    /// <summary>Undoes a team that turned out useless (it could not reach the spread it was made for); nothing was placed on it.</summary>
    private void Dissolve(CopysetTeam team)
    {
        while (team.Count > 0)
        {
            LeaveTeam(team, team.Members[team.Count - 1]);
        }
    }

    private void Recruit(CopysetPool pool, CopysetTeam team, ref int scans)
    {
        while (team.Count < CopysetTeam.Size && FindRecruit(pool, team, ref scans) is { } recruit)
        {
            AddMember(team, recruit);
        }
    }

    /// <summary>
    /// The best node to add to <paramref name="team"/>: apart from its members at the strongest level, then teamless
    /// (new nodes first), then in the fewest teams (fewer distinct node sets), then the emptiest.
    /// </summary>
    private TeamMember? FindRecruit(CopysetPool pool, CopysetTeam team, ref int scans)
    {
        TeamMember? best = null;
        long bestScore = -1;
        int pending = pool.Pending.Count;
        if (pending <= MaxPendingScanned)
        {
            for (int i = 0; i < pending; i++)
            {
                Consider(pool.Pending[i], team, ref best, ref bestScore);
            }
        }
        else
        {
            for (int i = 0; i < MaxPendingScanned; i++)
            {
                Consider(pool.Pending[_random.Next(pending)], team, ref best, ref bestScore);
            }
        }
        for (int i = 0; i < RecruitSamples && pool.Members.Count > 0; i++)
        {
            Consider(pool.Members[_random.Next(pool.Members.Count)], team, ref best, ref bestScore);
        }
        if ((best is null || (bestScore >> 56) < (int)TargetLevel(pool, team)) && scans > 0)
        {
            scans--;
            foreach (TeamMember member in pool.Members)
            {
                Consider(member, team, ref best, ref bestScore);
            }
        }
        return best;
    }

    private void Consider(TeamMember candidate, CopysetTeam team, ref TeamMember? best, ref long bestScore)
    {
        if (team.Contains(candidate) || !CanJoin(candidate, team))
        {
            return;
        }
        long score = ((long)ApartLevel(candidate, team) << 56)
            | ((candidate.Teams.Count == 0 ? 1L : 0L) << 55)
            | ((long)(MaxTeamsPerNode - candidate.Teams.Count) << 48)
            | candidate.BestFraction;
        if (score > bestScore)
        {
            best = candidate;
            bestScore = score;
        }
    }

    /// <summary>
    /// The peer budget: a node takes another team only while its drives could still reach at most
    /// <see cref="MaxPeers"/> peers, and so must every member it would join. A node's first team is never refused
    /// (nodes with very many drives would otherwise never be used); the per-drive peer sets still hold the bound then.
    /// </summary>
    private static bool CanJoin(TeamMember candidate, CopysetTeam team)
    {
        if (candidate.Teams.Count >= MaxTeamsPerNode)
        {
            return false;
        }
        if (candidate.Teams.Count > 0 && candidate.PotentialPeers + team.DriveCount() > MaxPeers)
        {
            return false;
        }
        for (int i = 0; i < team.Count; i++)
        {
            TeamMember member = team.Members[i];
            if (member.Teams.Count > 1 && member.PotentialPeers + candidate.Drives.Count > MaxPeers)
            {
                return false;
            }
        }
        return true;
    }

    private static FailureDomainLevel ApartLevel(TeamMember candidate, CopysetTeam team)
    {
        FailureDomainLevel level = FailureDomainLevel.Zone;
        for (int i = 0; i < team.Count; i++)
        {
            TeamMember member = team.Members[i];
            FailureDomainLevel apart = member.Zone != candidate.Zone ? FailureDomainLevel.Zone
                : member.Rack != candidate.Rack ? FailureDomainLevel.Rack
                : FailureDomainLevel.Node;
            if (apart < level)
            {
                level = apart;
            }
        }
        return level;
    }

    /// <summary>The strongest level at which the pool still has a domain none of the team's members is in.</summary>
    private static FailureDomainLevel TargetLevel(CopysetPool pool, CopysetTeam team)
    {
        Span<int> zones = stackalloc int[CopysetTeam.Size];
        Span<int> racks = stackalloc int[CopysetTeam.Size];
        int zoneCount = 0;
        int rackCount = 0;
        for (int i = 0; i < team.Count; i++)
        {
            if (!zones[..zoneCount].Contains(team.Members[i].Zone))
            {
                zones[zoneCount++] = team.Members[i].Zone;
            }
            if (!racks[..rackCount].Contains(team.Members[i].Rack))
            {
                racks[rackCount++] = team.Members[i].Rack;
            }
        }
        return pool.MembersPerZone.Count > zoneCount ? FailureDomainLevel.Zone
            : pool.MembersPerRack.Count > rackCount ? FailureDomainLevel.Rack
            : FailureDomainLevel.Node;
    }

    private static CopysetTeam NewTeam(CopysetPool pool)
    {
        var team = new CopysetTeam(pool) { Listed = true };
        pool.Incomplete.Add(team);
        return team;
    }

    private void AddMember(CopysetTeam team, TeamMember member)
    {
        for (int i = 0; i < team.Count; i++)
        {
            team.Members[i].PotentialPeers += member.Drives.Count;
            member.PotentialPeers += team.Members[i].Drives.Count;
        }
        team.Members[team.Count++] = member;
        member.Teams.Add(team);
        RemovePending(member);
        RefreshTeam(team);
    }

    private void LeaveTeam(CopysetTeam team, TeamMember member)
    {
        int at = Array.IndexOf(team.Members, member, 0, team.Count);
        team.Count--;
        team.Members[at] = team.Members[team.Count];
        team.Members[team.Count] = null!;
        member.Teams.Remove(team);
        for (int i = 0; i < team.Count; i++)
        {
            team.Members[i].PotentialPeers -= member.Drives.Count;
            member.PotentialPeers -= team.Members[i].Drives.Count;
        }
        if (team.Count == 0)
        {
            team.Live = false;
        }
        else if (!team.Listed)
        {
            team.Listed = true;
            team.Pool.Incomplete.Add(team);
        }
        team.Pool.Dirty = true;
        RefreshTeam(team);
    }

    private void AddSlot(PlacementDrive drive, int node, int cls)
    {
        while (_pools.Count <= cls)
        {
            _pools.Add(new CopysetPool(_pools.Count));
        }
        CopysetPool pool = _pools[cls];
        _members.TryGetValue((cls, node), out TeamMember? member);
        if (member is { Drives.Count: >= PlacementLimits.MaxDrivesPerNode })
        {
            throw new ArgumentException($"node {drive.Domain.Node} already has {PlacementLimits.MaxDrivesPerNode} '{drive.DriveClass}' drives", nameof(drive));
        }
        int slot = _view.Add(drive.Id, node, cls, drive.TotalSegments, drive.FreeSegments);
        EnsureSlotArrays();
        if (member is null)
        {
            member = new TeamMember(pool, node, _view.RackOf(node), _view.ZoneOf(node)) { PoolPosition = pool.Members.Count };
            _members.Add((cls, node), member);
            pool.Members.Add(member);
            member.PendingPosition = pool.Pending.Count;
            pool.Pending.Add(member);
            CountIn(pool.MembersPerZone, member.Zone, +1);
            CountIn(pool.MembersPerRack, member.Rack, +1);
            pool.Dirty = true;
        }
        member.Drives.Add(slot);
        _memberOfSlot[slot] = member;
        _peerCount[slot] = 0;
        UpdateBest(member);
        foreach (CopysetTeam team in member.Teams)
        {
            for (int i = 0; i < team.Count; i++)
            {
                if (team.Members[i] != member)
                {
                    team.Members[i].PotentialPeers++;
                }
            }
            RefreshTeam(team);
        }
    }

    private void RemoveSlot(int slot)
    {
        TeamMember member = _memberOfSlot[slot]!;
        ForgetPeers(slot);
        member.Drives.Remove(slot);
        _memberOfSlot[slot] = null;
        _view.Remove(slot);
        foreach (CopysetTeam team in member.Teams)
        {
            for (int i = 0; i < team.Count; i++)
            {
                if (team.Members[i] != member)
                {
                    team.Members[i].PotentialPeers--;
                }
            }
        }
        if (member.Drives.Count > 0)
        {
            UpdateBest(member);
            foreach (CopysetTeam team in member.Teams)
            {
                RefreshTeam(team);
            }
            return;
        }
        // The node's last drive of the class: it leaves its teams, which recruit a replacement at the next placement.
        CopysetPool pool = member.Pool;
        while (member.Teams.Count > 0)
        {
            LeaveTeam(member.Teams[^1], member);
        }
        RemovePending(member);
        List<TeamMember> members = pool.Members;
        TeamMember last = members[^1];
        members[member.PoolPosition] = last;
        last.PoolPosition = member.PoolPosition;
        members.RemoveAt(members.Count - 1);
        CountIn(pool.MembersPerZone, member.Zone, -1);
        CountIn(pool.MembersPerRack, member.Rack, -1);
        _members.Remove((pool.DriveClass, member.Node));
        member.Live = false;
        pool.Dirty = true;
    }

    /// <summary>A node's rack or zone changed: its teams keep their members but may now reach a weaker spread.</summary>
    private void Relabel(int node)
    {
        foreach (CopysetPool pool in _pools)
        {
            if (!_members.TryGetValue((pool.DriveClass, node), out TeamMember? member))
            {
                continue;
            }
            CountIn(pool.MembersPerZone, member.Zone, -1);
            CountIn(pool.MembersPerRack, member.Rack, -1);
            member.Zone = _view.ZoneOf(node);
            member.Rack = _view.RackOf(node);
            CountIn(pool.MembersPerZone, member.Zone, +1);
            CountIn(pool.MembersPerRack, member.Rack, +1);
            foreach (CopysetTeam team in member.Teams)
            {
                RefreshTeam(team);
            }
            pool.Dirty = true;
        }
    }

    private static void RemovePending(TeamMember member)
    {
        if (member.PendingPosition < 0)
        {
            return;
        }
        List<TeamMember> pending = member.Pool.Pending;
        TeamMember last = pending[^1];
        pending[member.PendingPosition] = last;
        last.PendingPosition = member.PendingPosition;
        pending.RemoveAt(pending.Count - 1);
        member.PendingPosition = -1;
    }

    private static void CountIn(Dictionary<int, int> counts, int key, int delta)
    {
        int count = counts.GetValueOrDefault(key) + delta;
        if (count == 0)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = count;
        }
    }
}
