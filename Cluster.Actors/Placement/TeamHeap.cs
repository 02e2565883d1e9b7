namespace Shoal.Actors.Placement;

/// <summary>
/// An indexed max-heap of teams on their key for one leg count: the emptiest team is at the root, and a team whose
/// key changed moves in O(log n). Keys sit in their own array beside the teams, so a sift compares contiguous longs
/// instead of chasing each team; a team's position lives in the team itself, so there is no side table.
/// </summary>
internal sealed class TeamHeap(int legs)
{
    private readonly int _legs = legs;
    private CopysetTeam[] _items = new CopysetTeam[16];
    private long[] _keys = new long[16];

    public int Count { get; private set; }

    public CopysetTeam At(int position) => _items[position];

    public long KeyAt(int position) => _keys[position];

    public void Insert(CopysetTeam team)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, Count * 2);
            Array.Resize(ref _keys, Count * 2);
        }
        Count++;
        Place(team, team.Key[_legs], SiftUp(Count - 1, team.Key[_legs]));
    }

    public void Remove(CopysetTeam team)
    {
        int position = team.HeapSlot[_legs];
        Count--;
        CopysetTeam last = _items[Count];
        long lastKey = _keys[Count];
        _items[Count] = null!;
        team.HeapSlot[_legs] = -1;
        if (position < Count)
        {
            Place(last, lastKey, SiftDown(SiftUp(position, lastKey), lastKey));
        }
    }

    /// <summary>Restores order after the team's key changed.</summary>
    public void Update(CopysetTeam team)
    {
        long key = team.Key[_legs];
        Place(team, key, SiftDown(SiftUp(team.HeapSlot[_legs], key), key));
    }

    private void Place(CopysetTeam team, long key, int position)
    {
        _items[position] = team;
        _keys[position] = key;
        team.HeapSlot[_legs] = position;
    }

    /// <summary>Moves the hole at <paramref name="position"/> up past smaller parents; returns where <paramref name="key"/> belongs.</summary>
    private int SiftUp(int position, long key)
    {
        while (position > 0)
        {
            int parent = (position - 1) >> 1;
            if (_keys[parent] >= key)
            {
                break;
            }
            Place(_items[parent], _keys[parent], position);
            position = parent;
        }
        return position;
    }

    private int SiftDown(int position, long key)
    {
        while (true)
        {
            int child = (position << 1) + 1;
            if (child >= Count)
            {
                break;
            }
            if (child + 1 < Count && _keys[child + 1] > _keys[child])
            {
                child++;
            }
            if (_keys[child] <= key)
            {
                break;
            }
            Place(_items[child], _keys[child], position);
            position = child;
        }
        return position;
    }
}
