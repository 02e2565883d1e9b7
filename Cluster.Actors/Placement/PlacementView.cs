using System.Diagnostics;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>
/// The drive table both strategies keep: drives in dense reusable slots, and node, rack, zone and class names
/// interned to small integers so that domain checks in the placement loop are integer compares. Names are interned
/// for the life of the view (a cluster's names are few and stable). A rack is named within its zone.
/// </summary>
internal sealed class PlacementView
{
    /// <summary>Fixed-point unit of <see cref="DriveSlot.FreeFraction"/>.</summary>
    public const long FractionScale = 1 << 20;

    private readonly Dictionary<DriveId, int> _slotOf = [];
    private readonly Dictionary<string, int> _nodeOf = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Zone, string Rack), int> _rackOf = [];
    private readonly Dictionary<string, int> _zoneOf = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _classOf = new(StringComparer.Ordinal);
    private readonly Stack<int> _freeSlots = new();
    private DriveSlot[] _drives = new DriveSlot[64];
    private int _slotsUsed;
    private int[] _nodeRack = new int[64];
    private int[] _nodeZone = new int[64];

    /// <summary>Slots ever handed out; arrays indexed by slot must be at least this long.</summary>
    public int SlotCapacity => _drives.Length;

    public int DriveCount => _slotOf.Count;

    public ref DriveSlot Drive(int slot) => ref _drives[slot];

    public int RackOf(int node) => _nodeRack[node];

    public int ZoneOf(int node) => _nodeZone[node];

    public bool TryGetSlot(DriveId id, out int slot) => _slotOf.TryGetValue(id, out slot);

    /// <summary>Gives segments back to a drive (never above its total); its slot, or -1 when the drive is not in the view.</summary>
    public int Release(DriveId id, int segments)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(segments);
        if (!TryGetSlot(id, out int slot))
        {
            return -1;
        }
        ref DriveSlot d = ref _drives[slot];
        d.FreeSegments = (int)Math.Min(d.TotalSegments, (long)d.FreeSegments + segments);
        return slot;
    }

    public bool TryGetClass(string driveClass, out int cls) => _classOf.TryGetValue(driveClass, out cls);

    public int InternClass(string driveClass)
    {
        if (!_classOf.TryGetValue(driveClass, out int cls))
        {
            cls = _classOf.Count;
            _classOf.Add(driveClass, cls);
        }
        return cls;
    }

    /// <summary>The node's index; its rack and zone become the given ones (the latest report wins). <paramref name="relabelled"/> says they changed.</summary>
    public int InternNode(FailureDomain domain, out bool relabelled)
    {
        int rack = Intern(_rackOf, (domain.Zone, domain.Rack));
        int zone = Intern(_zoneOf, domain.Zone);
        if (_nodeOf.TryGetValue(domain.Node, out int node))
        {
            relabelled = _nodeRack[node] != rack || _nodeZone[node] != zone;
        }
        else
        {
            node = _nodeOf.Count;
            _nodeOf.Add(domain.Node, node);
            if (node == _nodeRack.Length)
            {
                Array.Resize(ref _nodeRack, node * 2);
                Array.Resize(ref _nodeZone, node * 2);
            }
            relabelled = false;
        }
        _nodeRack[node] = rack;
        _nodeZone[node] = zone;
        return node;
    }

    public int Add(DriveId id, int node, int cls, int totalSegments, int freeSegments)
    {
        Debug.Assert(!_slotOf.ContainsKey(id));
        if (!_freeSlots.TryPop(out int slot))
        {
            if (_slotsUsed == _drives.Length)
            {
                Array.Resize(ref _drives, _drives.Length * 2);
            }
            slot = _slotsUsed++;
        }
        _drives[slot] = new DriveSlot { Id = id, Node = node, Class = cls, TotalSegments = totalSegments, FreeSegments = freeSegments, Live = true };
        _slotOf.Add(id, slot);
        return slot;
    }

    public void Remove(int slot)
    {
        Debug.Assert(_drives[slot].Live);
        _slotOf.Remove(_drives[slot].Id);
        _drives[slot] = default;
        _freeSlots.Push(slot);
    }

    /// <summary>Whether two nodes are in different domains at <paramref name="level"/> (at Drive level any two nodes are).</summary>
    public bool NodesApart(int nodeA, int nodeB, FailureDomainLevel level) => level switch
    {
        FailureDomainLevel.Drive => true,
        FailureDomainLevel.Node => nodeA != nodeB,
        FailureDomainLevel.Rack => _nodeRack[nodeA] != _nodeRack[nodeB],
        _ => _nodeZone[nodeA] != _nodeZone[nodeB],
    };

    /// <summary>Whether two drives may hold legs of one group under <paramref name="level"/>.</summary>
    public bool DrivesApart(int slotA, int slotB, FailureDomainLevel level) =>
        slotA != slotB && NodesApart(_drives[slotA].Node, _drives[slotB].Node, level);

    private static int Intern<TKey>(Dictionary<TKey, int> table, TKey key) where TKey : notnull
    {
        if (!table.TryGetValue(key, out int value))
        {
            value = table.Count;
            table.Add(key, value);
        }
        return value;
    }
}
