using System.Diagnostics;

namespace Shoal.Actors.Placement;

// Each drive's peer set: the drives it shares a group with, at most MaxPeers, in a flat array (slot * MaxPeers).
// Sets only grow while groups are placed (the view never learns which groups a release ended, so a peer is kept
// until one of the two drives leaves): the bound is therefore conservative, never optimistic.
public sealed partial class CopysetPlacement
{
    private bool IsPeer(int a, int b) => _peers.AsSpan(a * MaxPeers, _peerCount[a]).Contains(b);

    /// <summary>Whether <paramref name="slot"/> may join the chosen legs, counting the peerships already planned for them.</summary>
    private bool PeersFit(int slot, ReadOnlySpan<int> chosen, ReadOnlySpan<int> plannedNewPeers)
    {
        int added = 0;
        for (int c = 0; c < chosen.Length; c++)
        {
            if (!IsPeer(slot, chosen[c]))
            {
                if (_peerCount[chosen[c]] + plannedNewPeers[c] + 1 > MaxPeers)
                {
                    return false;
                }
                added++;
            }
        }
        return _peerCount[slot] + added <= MaxPeers;
    }

    private void AddPeer(int a, int b)
    {
        Debug.Assert(_peerCount[a] < MaxPeers, $"drive slot {a} would pass {MaxPeers} peers");
        _peers[(a * MaxPeers) + _peerCount[a]] = b;
        _peerCount[a]++;
    }

    private void RemovePeer(int a, int b)
    {
        Span<int> peers = _peers.AsSpan(a * MaxPeers, _peerCount[a]);
        int i = peers.IndexOf(b);
        Debug.Assert(i >= 0);
        peers[i] = peers[^1];
        _peerCount[a]--;
    }

    private void ForgetPeers(int slot)
    {
        foreach (int peer in _peers.AsSpan(slot * MaxPeers, _peerCount[slot]))
        {
            RemovePeer(peer, slot);
        }
        _peerCount[slot] = 0;
    }

    private void EnsureSlotArrays()
    {
        int capacity = _view.SlotCapacity;
        if (_memberOfSlot.Length < capacity)
        {
            Array.Resize(ref _memberOfSlot, capacity);
            Array.Resize(ref _peerCount, capacity);
            Array.Resize(ref _peers, capacity * MaxPeers);
        }
    }

    /// <summary>For tests: the drive's peers as the view records them.</summary>
    internal int PeerCountOf(Protocol.DriveId drive) => _view.TryGetSlot(drive, out int slot) ? _peerCount[slot] : 0;
}
