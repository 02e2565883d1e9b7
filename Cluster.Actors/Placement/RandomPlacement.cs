using System.Collections.Immutable;
using System.Runtime.InteropServices;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>
/// The baseline: every leg on a drive drawn uniformly from those of the class that have room and sit apart from the
/// group's other legs at the requested level — what HDFS, GFS and most "random replication" systems do. It balances
/// only statistically, and its peers and loss probability grow with the number of groups; the benchmark measures it
/// beside <see cref="CopysetPlacement"/> for exactly that reason.
/// </summary>
public sealed class RandomPlacement : IPlacement
{
    /// <summary>Uniform draws per leg before an exact scan (uniform over the eligible drives too) takes over.</summary>
    private const int DrawsPerLeg = 64;

    private readonly Random _random;
    private readonly PlacementView _view = new();
    private readonly List<List<int>> _slotsOfClass = [];
    private int[] _positionInClass = new int[64];
    private readonly List<(int Slot, int Segments)> _reserved = [];
    private int[] _legs = new int[64];

    public RandomPlacement(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
    }

    public PlacementResult Place(PlacementRequest request)
    {
        PlacementLimits.Validate(request);
        if (!_view.TryGetClass(request.DriveClass, out int cls) || _slotsOfClass[cls].Count == 0)
        {
            return PlacementResult.Failed($"no drives of class '{request.DriveClass}'");
        }
        int legs = request.Legs;
        if (_legs.Length < request.Groups * legs)
        {
            _legs = new int[request.Groups * legs];
        }
        _reserved.Clear();
        for (int g = 0; g < request.Groups; g++)
        {
            Span<int> group = _legs.AsSpan(g * legs, legs);
            for (int leg = 0; leg < legs; leg++)
            {
                int slot = Pick(cls, request.SegmentsPerLeg, request.Spread, group[..leg], failed: -1);
                if (slot < 0)
                {
                    Rollback();
                    return PlacementResult.Failed(
                        $"group {g + 1} of {request.Groups}: no drive of class '{request.DriveClass}' has {request.SegmentsPerLeg} free segments " +
                        $"in a {PlacementLimits.Name(request.Spread)} apart from the group's other legs");
                }
                group[leg] = slot;
                _view.Drive(slot).FreeSegments -= request.SegmentsPerLeg;
                _reserved.Add((slot, request.SegmentsPerLeg));
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
        if (!_view.TryGetClass(request.DriveClass, out int cls) || _slotsOfClass[cls].Count == 0)
        {
            return ReplacementResult.Failed($"no drives of class '{request.DriveClass}'");
        }
        Span<int> survivors = stackalloc int[PlacementLimits.MaxLegs];
        for (int i = 0; i < request.Survivors.Length; i++)
        {
            if (!_view.TryGetSlot(request.Survivors[i], out survivors[i]))
            {
                return ReplacementResult.Failed($"surviving drive {request.Survivors[i]} is not in the view");
            }
        }
        int failed = _view.TryGetSlot(request.Failed, out int f) ? f : -1;
        int slot = Pick(cls, request.SegmentsPerLeg, request.Spread, survivors[..request.Survivors.Length], failed);
        if (slot < 0)
        {
            return ReplacementResult.Failed(
                $"no drive of class '{request.DriveClass}' has {request.SegmentsPerLeg} free segments in a {PlacementLimits.Name(request.Spread)} apart from the survivors");
        }
        _view.Drive(slot).FreeSegments -= request.SegmentsPerLeg;
        return ReplacementResult.Placed(_view.Drive(slot).Id);
    }

    public void UpsertDrive(PlacementDrive drive)
    {
        PlacementLimits.Validate(drive);
        int node = _view.InternNode(drive.Domain, out _);
        int cls = _view.InternClass(drive.DriveClass);
        if (_view.TryGetSlot(drive.Id, out int slot))
        {
            ref DriveSlot d = ref _view.Drive(slot);
            if (d.Node == node && d.Class == cls)
            {
                d.TotalSegments = drive.TotalSegments;
                d.FreeSegments = drive.FreeSegments;
                return;
            }
            RemoveSlot(slot);
        }
        slot = _view.Add(drive.Id, node, cls, drive.TotalSegments, drive.FreeSegments);
        while (_slotsOfClass.Count <= cls)
        {
            _slotsOfClass.Add([]);
        }
        if (_positionInClass.Length < _view.SlotCapacity)
        {
            Array.Resize(ref _positionInClass, _view.SlotCapacity);
        }
        _positionInClass[slot] = _slotsOfClass[cls].Count;
        _slotsOfClass[cls].Add(slot);
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

    public bool Release(DriveId drive, int segments) => _view.Release(drive, segments) >= 0;

    /// <summary>A uniformly random eligible drive, or -1 when there is none.</summary>
    private int Pick(int cls, int segments, FailureDomainLevel spread, ReadOnlySpan<int> apartFrom, int failed)
    {
        List<int> slots = _slotsOfClass[cls];
        for (int draw = 0; draw < DrawsPerLeg; draw++)
        {
            int slot = slots[_random.Next(slots.Count)];
            if (Eligible(slot, segments, spread, apartFrom, failed))
            {
                return slot;
            }
        }
        // Crowded or nearly full: one reservoir-sampling pass is still uniform over the eligible drives, and exact
        // about "none".
        int pick = -1;
        int seen = 0;
        foreach (int slot in slots)
        {
            if (Eligible(slot, segments, spread, apartFrom, failed) && _random.Next(++seen) == 0)
            {
                pick = slot;
            }
        }
        return pick;
    }

    private bool Eligible(int slot, int segments, FailureDomainLevel spread, ReadOnlySpan<int> apartFrom, int failed)
    {
        if (slot == failed || _view.Drive(slot).FreeSegments < segments)
        {
            return false;
        }
        foreach (int other in apartFrom)
        {
            if (!_view.DrivesApart(slot, other, spread))
            {
                return false;
            }
        }
        return true;
    }

    private void Rollback()
    {
        foreach ((int slot, int segments) in _reserved)
        {
            _view.Drive(slot).FreeSegments += segments;
        }
        _reserved.Clear();
    }

    private void RemoveSlot(int slot)
    {
        List<int> slots = _slotsOfClass[_view.Drive(slot).Class];
        int position = _positionInClass[slot];
        int last = slots[^1];
        slots[position] = last;
        _positionInClass[last] = position;
        slots.RemoveAt(slots.Count - 1);
        _view.Remove(slot);
    }
}
