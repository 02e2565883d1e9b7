using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>
/// Copyset placement. Nodes of a drive class are grouped into teams of three in distinct failure domains (zones when
/// the class spans three, else racks, else nodes); every leg of a segment group goes to a member of one team — L of
/// its three members, the emptiest drive on each — and the team is the emptiest one that can hold the group.
/// <para>
/// Why peers stay bounded: a drive only ever shares groups with drives on its own teams' other members. A node joins
/// one team when it arrives and another only when a team needs a partner (a node that arrived alone, a lost member
/// replaced, a zone that arrived alone and teamed across racks), and never one that would give its drives more than 16
/// possible peers (two teams of 4-drive nodes make exactly 16). The bound
/// is also enforced per drive: each drive keeps its peer set, and a group whose legs would push a drive past 16 peers
/// is not placed there. The cluster's size does not enter: 100 or 100,000 nodes, a drive talks to the same handful.
/// </para>
/// <para>
/// Why losses are rarer: a group is lost only when every node holding a leg fails. Random placement spreads groups over
/// ever more distinct node pairs and triples as groups accumulate, until almost any few failures hit one. Here the
/// distinct node sets are only the teams and their pairs — about one team per node, whatever the number of groups —
/// so the same failures hit a leg set far less often (Cidon et al., "Copysets", USENIX ATC 2013). The price is the
/// same as theirs: a lost drive is rebuilt from its ≤ 16 peers rather than from the whole cluster.
/// </para>
/// <para>
/// Balance: teams sit in max-heaps keyed by how empty their L-th emptiest member is, so each group goes where its
/// fullest leg is least full (greedy least-loaded; drives end within about one leg of each other). Teams are formed
/// lazily at the first placement after nodes arrive, so a cluster brought up node by node is teamed as a whole, and
/// later arrivals team with each other or with nodes that still have room (Cidon et al., "Tiered Replication", 2015).
/// </para>
/// </summary>
public sealed partial class CopysetPlacement : IPlacement
{
    private const int MaxPeers = PlacementLimits.MaxPeersPerDrive;

    /// <summary>Teams tried per group, emptiest first, before a placement gives up (only crowded or full pools get that far).</summary>
    private const int MaxTeamProbes = 32;

    private readonly Random _random;
    private readonly PlacementView _view = new();
    private readonly Dictionary<(int Class, int Node), TeamMember> _members = [];
    private readonly List<CopysetPool> _pools = [];
    private TeamMember?[] _memberOfSlot = new TeamMember?[64];
    private int[] _peers = new int[64 * MaxPeers];
    private byte[] _peerCount = new byte[64];

    // Undo log of the request in progress: every group is placed or none.
    private readonly List<(int Slot, int Segments)> _reserved = [];
    private readonly List<(int A, int B)> _peered = [];
    private int[] _legs = new int[64];

    public CopysetPlacement(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
    }

    public PlacementResult Place(PlacementRequest request)
    {
        PlacementLimits.Validate(request);
        if (PoolOf(request.DriveClass) is not { } pool)
        {
            return PlacementResult.Failed($"no drives of class '{request.DriveClass}'");
        }
        FormTeams(pool);
        int legs = request.Legs;
        if (_legs.Length < request.Groups * legs)
        {
            _legs = new int[request.Groups * legs];
        }
        _reserved.Clear();
        _peered.Clear();
        for (int g = 0; g < request.Groups; g++)
        {
            string? reason = PlaceGroup(pool, legs, request.Spread, request.SegmentsPerLeg, _legs.AsSpan(g * legs, legs));
            if (reason is not null)
            {
                Rollback();
                return PlacementResult.Failed($"group {g + 1} of {request.Groups}: {reason}");
            }
        }
        var groups = new ImmutableArray<DriveId>[request.Groups];
        for (int g = 0; g < request.Groups; g++)
        {
            var drives = new DriveId[legs];
            for (int leg = 0; leg < legs; leg++)
            {
                drives[leg] = _view.Drive(_legs[(g * legs) + leg]).Id;
            }
            // The arrays are ours and never written again: wrap them rather than copy.
            groups[g] = ImmutableCollectionsMarshal.AsImmutableArray(drives);
        }
        return PlacementResult.Placed(ImmutableCollectionsMarshal.AsImmutableArray(groups));
    }

    public ReplacementResult PlaceReplacement(ReplacementRequest request)
    {
        PlacementLimits.Validate(request);
        if (PoolOf(request.DriveClass) is not { } pool)
        {
            return ReplacementResult.Failed($"no drives of class '{request.DriveClass}'");
        }
        FormTeams(pool);
        int survivorCount = request.Survivors.Length;
        Span<int> survivors = stackalloc int[PlacementLimits.MaxLegs];
        for (int i = 0; i < survivorCount; i++)
        {
            if (!_view.TryGetSlot(request.Survivors[i], out survivors[i]) || _memberOfSlot[survivors[i]]?.Pool != pool)
            {
                return ReplacementResult.Failed($"surviving drive {request.Survivors[i]} is not a '{request.DriveClass}' drive in the view");
            }
        }
        survivors = survivors[..survivorCount];
        int failed = _view.TryGetSlot(request.Failed, out int f) ? f : -1;
        var choice = new ReplacementChoice(survivors, failed, request.Spread, request.SegmentsPerLeg);

        // The group's own team first (the failed drive's node, or the member recruited in place of a lost one): the
        // group stays inside one team and its drives only meet peers they were budgeted for. Failing that, drives
        // that add the fewest new peerships: the survivors' team partners and current peers, then the whole pool
        // (a scan, taken only when everything around the survivors is full).
        TeamMember first = _memberOfSlot[survivors[0]]!;
        foreach (CopysetTeam team in first.Teams)
        {
            if (HoldsAll(team, survivors))
            {
                ConsiderTeam(ref choice, team);
            }
        }
        if (choice.Best < 0)
        {
            choice.RankByNewPeers = true;
            foreach (int survivor in survivors)
            {
                foreach (CopysetTeam team in _memberOfSlot[survivor]!.Teams)
                {
                    ConsiderTeam(ref choice, team);
                }
                foreach (int peer in _peers.AsSpan(survivor * MaxPeers, _peerCount[survivor]))
                {
                    ConsiderMember(ref choice, _memberOfSlot[peer]!);
                }
            }
        }
        if (choice.Best < 0)
        {
            foreach (TeamMember member in pool.Members)
            {
                ConsiderMember(ref choice, member);
            }
        }
        if (choice.Best < 0)
        {
            return ReplacementResult.Failed(
                $"no '{request.DriveClass}' drive has {request.SegmentsPerLeg} free segments, a {PlacementLimits.Name(request.Spread)} apart from the survivors " +
                $"and room for them among its {MaxPeers} peers");
        }
        _reserved.Clear();
        _peered.Clear();
        Span<int> legs = stackalloc int[PlacementLimits.MaxLegs];
        survivors.CopyTo(legs);
        legs[survivorCount] = choice.Best;
        Commit(legs[..(survivorCount + 1)], request.SegmentsPerLeg, onlyLast: true);
        return ReplacementResult.Placed(_view.Drive(choice.Best).Id);
    }

    public void UpsertDrive(PlacementDrive drive)
    {
        PlacementLimits.Validate(drive);
        int node = _view.InternNode(drive.Domain, out bool relabelled);
        int cls = _view.InternClass(drive.DriveClass);
        if (_view.TryGetSlot(drive.Id, out int slot))
        {
            ref DriveSlot d = ref _view.Drive(slot);
            if (d.Node == node && d.Class == cls)
            {
                d.TotalSegments = drive.TotalSegments;
                d.FreeSegments = drive.FreeSegments;
                RefreshFraction(_memberOfSlot[slot]!);
            }
            else
            {
                // A drive that changed node or class is a different placement target: its old peers stay where
                // they were (the data moves with a rebuild, not with this view).
                RemoveSlot(slot);
                AddSlot(drive, node, cls);
            }
        }
        else
        {
            AddSlot(drive, node, cls);
        }
        if (relabelled)
        {
            Relabel(node);
        }
    }

    public bool RemoveDrive(DriveId drive)
    {
        if (!_view.TryGetSlot(drive, out int slot))
        {
            return false;
        }
        RemoveSlot(slot);
        return true;
    }

    public bool Release(DriveId drive, int segments)
    {
        int slot = _view.Release(drive, segments);
        if (slot < 0)
        {
            return false;
        }
        RefreshFraction(_memberOfSlot[slot]!);
        return true;
    }

    /// <summary>Places one group on the emptiest team that can take it; null on success, else why not.</summary>
    private string? PlaceGroup(CopysetPool pool, int legs, FailureDomainLevel spread, int segments, Span<int> group)
    {
        // Best-first walk over the heaps of every level at least as strong as asked: a team that cannot take the
        // group (no room for this many segments, or peers full) is passed over for its children, never removed.
        const int FrontierCapacity = (int)FailureDomainLevel.Zone + 1 + MaxTeamProbes + 1;
        Span<int> frontierLevel = stackalloc int[FrontierCapacity];
        Span<int> frontierPosition = stackalloc int[FrontierCapacity];
        int frontier = 0;
        for (int level = (int)spread; level <= (int)FailureDomainLevel.Zone; level++)
        {
            if (pool.Heaps[legs, level].Count > 0)
            {
                frontierLevel[frontier] = level;
                frontierPosition[frontier] = 0;
                frontier++;
            }
        }
        if (frontier == 0)
        {
            return $"not enough failure domains: no team spans {legs} distinct {PlacementLimits.Name(spread)}s";
        }
        for (int probe = 0; probe < MaxTeamProbes && frontier > 0; probe++)
        {
            int best = 0;
            for (int i = 1; i < frontier; i++)
            {
                if (pool.Heaps[legs, frontierLevel[i]].KeyAt(frontierPosition[i]) > pool.Heaps[legs, frontierLevel[best]].KeyAt(frontierPosition[best]))
                {
                    best = i;
                }
            }
            TeamHeap heap = pool.Heaps[legs, frontierLevel[best]];
            int position = frontierPosition[best];
            int level = frontierLevel[best];
            frontier--;
            frontierLevel[best] = frontierLevel[frontier];
            frontierPosition[best] = frontierPosition[frontier];
            if (ChooseLegs(heap.At(position), spread, segments, group))
            {
                Commit(group, segments, onlyLast: false);
                return null;
            }
            for (int child = (position << 1) + 1; child <= (position << 1) + 2 && child < heap.Count; child++)
            {
                frontierLevel[frontier] = level;
                frontierPosition[frontier] = child;
                frontier++;
            }
        }
        return $"no room: none of the {MaxTeamProbes} emptiest teams has {segments} free segments per leg on drives with peer room";
    }

    /// <summary>Picks the emptiest drive for each leg among the team's members, greedily; false when a leg finds none.</summary>
    private bool ChooseLegs(CopysetTeam team, FailureDomainLevel spread, int segments, Span<int> group)
    {
        Span<int> newPeers = stackalloc int[PlacementLimits.MaxLegs];
        for (int leg = 0; leg < group.Length; leg++)
        {
            Span<int> chosen = group[..leg];
            int best = -1;
            long bestScore = -1;
            for (int m = 0; m < team.Count; m++)
            {
                TeamMember member = team.Members[m];
                if (!MemberApart(member, chosen, spread, out bool shared))
                {
                    continue;
                }
                // The member's emptiest drive is the answer unless it is taken, short of room or of peer capacity;
                // only then are its other drives looked at.
                long bonus = shared ? 0 : PlacementView.FractionScale + 1;
                int slot = member.BestSlot;
                if (slot >= 0 && Fits(slot, chosen, segments, newPeers))
                {
                    if (member.BestFraction + bonus > bestScore)
                    {
                        best = slot;
                        bestScore = member.BestFraction + bonus;
                    }
                    continue;
                }
                foreach (int other in member.Drives)
                {
                    if (other == slot || !Fits(other, chosen, segments, newPeers))
                    {
                        continue;
                    }
                    long score = _view.Drive(other).FreeFraction + bonus;
                    if (score > bestScore)
                    {
                        best = other;
                        bestScore = score;
                    }
                }
            }
            if (best < 0)
            {
                return false;
            }
            newPeers[leg] = 0;
            for (int c = 0; c < leg; c++)
            {
                if (!IsPeer(best, chosen[c]))
                {
                    newPeers[c]++;
                    newPeers[leg]++;
                }
            }
            group[leg] = best;
        }
        return true;
    }

    private bool Fits(int slot, ReadOnlySpan<int> chosen, int segments, ReadOnlySpan<int> newPeers) =>
        _view.Drive(slot).FreeSegments >= segments && !chosen.Contains(slot) && PeersFit(slot, chosen, newPeers);

    /// <summary>Whether <paramref name="member"/> may take a leg beside the chosen ones; <paramref name="shared"/> says it already holds one.</summary>
    private bool MemberApart(TeamMember member, ReadOnlySpan<int> chosen, FailureDomainLevel spread, out bool shared)
    {
        shared = false;
        foreach (int slot in chosen)
        {
            TeamMember other = _memberOfSlot[slot]!;
            if (other == member)
            {
                shared = true;
                if (spread != FailureDomainLevel.Drive)
                {
                    return false;
                }
            }
            else if (!_view.NodesApart(member.Node, other.Node, spread))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Reserves the legs' segments and records their peerships (only the last leg's for a replacement).</summary>
    private void Commit(ReadOnlySpan<int> group, int segments, bool onlyLast)
    {
        for (int leg = onlyLast ? group.Length - 1 : 0; leg < group.Length; leg++)
        {
            _view.Drive(group[leg]).FreeSegments -= segments;
            _reserved.Add((group[leg], segments));
            for (int other = 0; other < leg; other++)
            {
                if (!IsPeer(group[leg], group[other]))
                {
                    AddPeer(group[leg], group[other]);
                    AddPeer(group[other], group[leg]);
                    _peered.Add((group[leg], group[other]));
                }
            }
        }
        for (int leg = onlyLast ? group.Length - 1 : 0; leg < group.Length; leg++)
        {
            RefreshFraction(_memberOfSlot[group[leg]]!);
        }
    }

    private void Rollback()
    {
        for (int i = _peered.Count - 1; i >= 0; i--)
        {
            RemovePeer(_peered[i].A, _peered[i].B);
            RemovePeer(_peered[i].B, _peered[i].A);
        }
        for (int i = _reserved.Count - 1; i >= 0; i--)
        {
            _view.Drive(_reserved[i].Slot).FreeSegments += _reserved[i].Segments;
        }
        foreach ((int slot, _) in _reserved)
        {
            RefreshFraction(_memberOfSlot[slot]!);
        }
        _reserved.Clear();
        _peered.Clear();
    }

    private bool HoldsAll(CopysetTeam team, ReadOnlySpan<int> survivors)
    {
        foreach (int slot in survivors)
        {
            if (!team.Contains(_memberOfSlot[slot]!))
            {
                return false;
            }
        }
        return true;
    }

    private CopysetPool? PoolOf(string driveClass) =>
        _view.TryGetClass(driveClass, out int cls) && cls < _pools.Count && _pools[cls].Members.Count > 0 ? _pools[cls] : null;

}
