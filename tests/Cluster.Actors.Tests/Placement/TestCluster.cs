using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Tests.Placement;

/// <summary>
/// A cluster for placement tests and an independent ledger of what was placed on it: the checks below recompute
/// domains, fill and peers from the results, never from the strategy's own bookkeeping.
/// </summary>
internal sealed class TestCluster(IPlacement placement)
{
    public const string Class = "nvme";

    private readonly Dictionary<DriveId, PlacementDrive> _drives = [];
    private readonly Dictionary<DriveId, long> _used = [];
    private readonly Dictionary<DriveId, HashSet<DriveId>> _peers = [];

    public IPlacement Placement { get; } = placement;

    public IReadOnlyDictionary<DriveId, PlacementDrive> Drives => _drives;

    public List<PlacedGroup> Groups { get; } = [];

    public static CopysetPlacement Copyset(int seed) => new(new Random(seed));

    public static IPlacement Strategy(string name, int seed) => name switch
    {
        "copyset" => new CopysetPlacement(new Random(seed)),
        "random" => new RandomPlacement(new Random(seed)),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    public static DriveId DriveOf(int node, int drive) => new(new Guid(node, (short)drive, 0x5107, 0, 0, 0, 0, 0, 0, 0, 0));

    /// <summary>Adds zones × racks × nodes × drives, node numbers from <paramref name="firstNode"/>, zone and rack names from the given offsets.</summary>
    public int AddNodes(int zones, int racksPerZone, int nodesPerRack, int drivesPerNode, int segmentsPerDrive, int firstNode = 0, int firstZone = 0)
    {
        int node = firstNode;
        for (int z = firstZone; z < firstZone + zones; z++)
        {
            for (int r = 0; r < racksPerZone; r++)
            {
                for (int n = 0; n < nodesPerRack; n++, node++)
                {
                    AddNode(node, $"z{z}", $"r{r}", drivesPerNode, segmentsPerDrive);
                }
            }
        }
        return node;
    }

    public void AddNode(int node, string zone, string rack, int drivesPerNode, int segmentsPerDrive)
    {
        for (int d = 0; d < drivesPerNode; d++)
        {
            var drive = new PlacementDrive(DriveOf(node, d), new FailureDomain($"n{node}", rack, zone), Class, segmentsPerDrive, segmentsPerDrive);
            _drives[drive.Id] = drive;
            _used[drive.Id] = 0;
            Placement.UpsertDrive(drive);
        }
    }

    /// <summary>Moves a node to another rack or zone, as its drives' next reports would say.</summary>
    public void Relabel(int node, string zone, string rack)
    {
        foreach (PlacementDrive drive in _drives.Values.Where(d => d.Domain.Node == $"n{node}").ToList())
        {
            PlacementDrive moved = drive with { Domain = new FailureDomain($"n{node}", rack, zone), FreeSegments = drive.TotalSegments - (int)_used[drive.Id] };
            _drives[drive.Id] = moved;
            Placement.UpsertDrive(moved);
        }
    }

    public void RemoveNode(int node)
    {
        foreach (DriveId id in _drives.Keys.Where(id => _drives[id].Domain.Node == $"n{node}").ToList())
        {
            RemoveDrive(id);
        }
    }

    public void RemoveDrive(DriveId id)
    {
        Assert.True(Placement.RemoveDrive(id));
        _drives.Remove(id);
        _used.Remove(id);
        if (_peers.Remove(id, out HashSet<DriveId>? peers))
        {
            foreach (DriveId peer in peers)
            {
                _peers[peer].Remove(id);
            }
        }
        foreach (PlacedGroup group in Groups)
        {
            int leg = Array.IndexOf(group.Legs, id);
            if (leg >= 0)
            {
                group.Legs[leg] = default;
            }
        }
    }

    public PlacementResult Place(int groups, int legs, FailureDomainLevel spread, int segmentsPerLeg = 1)
    {
        PlacementResult result = Placement.Place(new PlacementRequest(groups, legs, Class, spread, segmentsPerLeg));
        if (!result.Succeeded)
        {
            Assert.False(string.IsNullOrWhiteSpace(result.FailureReason));
            Assert.True(result.Groups.IsEmpty);
            return result;
        }
        Assert.Equal(groups, result.Groups.Length);
        foreach (var group in result.Groups)
        {
            Assert.Equal(legs, group.Length);
            AssertApart(group.AsSpan(), spread);
            foreach (DriveId drive in group)
            {
                _used[drive] += segmentsPerLeg;
            }
            Groups.Add(new PlacedGroup([.. group], spread, segmentsPerLeg));
            AddPeers(group.AsSpan());
        }
        return result;
    }

    /// <summary>Replaces <paramref name="leg"/> of a recorded group as the volume entity would after that drive failed.</summary>
    public ReplacementResult Replace(PlacedGroup group, int leg)
    {
        DriveId failed = group.Legs[leg];
        DriveId[] survivors = [.. group.Legs.Where((d, i) => i != leg && d != default)];
        FailureDomainLevel spread = group.Spread;
        int segmentsPerLeg = group.SegmentsPerLeg;
        ReplacementResult result = Placement.PlaceReplacement(new ReplacementRequest([.. survivors], failed, Class, spread, segmentsPerLeg));
        if (!result.Succeeded)
        {
            Assert.False(string.IsNullOrWhiteSpace(result.FailureReason));
            return result;
        }
        Assert.NotEqual(failed, result.Drive);
        Assert.DoesNotContain(result.Drive, survivors);
        DriveId[] repaired = [.. survivors, result.Drive];
        AssertApart(repaired, spread);
        _used[result.Drive] += segmentsPerLeg;
        group.Legs[leg] = result.Drive;
        AddPeers(repaired);
        return result;
    }

    public void Release(DriveId drive, int segments)
    {
        Assert.True(Placement.Release(drive, segments));
        _used[drive] -= segments;
    }

    public int MaxPeers() => _peers.Count == 0 ? 0 : _peers.Values.Max(p => p.Count);

    public long Used(DriveId drive) => _used[drive];

    public void AssertNotOverCommitted()
    {
        foreach ((DriveId id, long used) in _used)
        {
            Assert.True(used <= _drives[id].TotalSegments, $"drive {id} holds {used} of {_drives[id].TotalSegments} segments");
        }
    }

    /// <summary>Max over mean of the drives' fill (used / total).</summary>
    public double Imbalance()
    {
        double[] fills = [.. _used.Select(u => (double)u.Value / _drives[u.Key].TotalSegments)];
        return fills.Max() / fills.Average();
    }

    public void AssertApart(ReadOnlySpan<DriveId> legs, FailureDomainLevel spread)
    {
        for (int i = 0; i < legs.Length; i++)
        {
            for (int j = i + 1; j < legs.Length; j++)
            {
                FailureDomain a = _drives[legs[i]].Domain;
                FailureDomain b = _drives[legs[j]].Domain;
                Assert.NotEqual(legs[i], legs[j]);
                bool apart = spread switch
                {
                    FailureDomainLevel.Drive => true,
                    FailureDomainLevel.Node => a.Node != b.Node,
                    FailureDomainLevel.Rack => a.Zone != b.Zone || a.Rack != b.Rack,
                    _ => a.Zone != b.Zone,
                };
                Assert.True(apart, $"legs {legs[i]} ({a}) and {legs[j]} ({b}) share a {spread}");
            }
        }
    }

    private void AddPeers(ReadOnlySpan<DriveId> group)
    {
        foreach (DriveId a in group)
        {
            foreach (DriveId b in group)
            {
                if (a != b)
                {
                    if (!_peers.TryGetValue(a, out HashSet<DriveId>? set))
                    {
                        _peers[a] = set = [];
                    }
                    set.Add(b);
                }
            }
        }
    }
}
