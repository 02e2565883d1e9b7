namespace Shoal.Actors.Placement;

/// <summary>
/// An indexed max-heap of teams on their key for one leg count: the emptiest team is at the root, and a team whose
/// key changed moves in O(log n). Positions live in the teams themselves, so there is no side table.
/// </summary>
internal sealed class TeamHeap(int legs)
{
    private readonly int _legs = legs;
    private CopysetTeam[] _items = new CopysetTeam[16];

    public int Count { get; private set; }

    public CopysetTeam At(int position) => _items[position];

    public long KeyAt(int position) => _items[position].Key[_legs];

    public void Insert(CopysetTeam team)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Count * 2);
        }
        _items[Count] = team;
        team.HeapSlot[_legs] = Count;
        Count++;
        SiftUp(Count - 1);
    }

    public void Remove(CopysetTeam team)
    {
        int position = team.HeapSlot[_legs];
        Count--;
        CopysetTeam last = _items[Count];
        _items[Count] = null!;
        team.HeapSlot[_legs] = -1;
        if (position < Count)
        {
            _items[position] = last;
            last.HeapSlot[_legs] = position;
            SiftDown(SiftUp(position));
        }
    }

    /// <summary>Restores order after the team's key changed.</summary>
    public void Update(CopysetTeam team) => SiftDown(SiftUp(team.HeapSlot[_legs]));

    private int SiftUp(int position)
    {
        CopysetTeam team = _items[position];
        long key = team.Key[_legs];
        while (position > 0)
        {
            int parent = (position - 1) >> 1;
            if (_items[parent].Key[_legs] >= key)
            {
                break;
            }
            _items[position] = _items[parent];
            _items[position].HeapSlot[_legs] = position;
            position = parent;
        }
        _items[position] = team;
        team.HeapSlot[_legs] = position;
        return position;
    }

    private int SiftDown(int position)
    {
        CopysetTeam team = _items[position];
        long key = team.Key[_legs];
        while (true)
        {
            int child = (position << 1) + 1;
            if (child >= Count)
            {
                break;
            }
            if (child + 1 < Count && _items[child + 1].Key[_legs] > _items[child].Key[_legs])
            {
                child++;
            }
            if (_items[child].Key[_legs] <= key)
            {
                break;
            }
            _items[position] = _items[child];
            _items[position].HeapSlot[_legs] = position;
            position = child;
        }
        _items[position] = team;
        team.HeapSlot[_legs] = position;
        return position;
    }
}
