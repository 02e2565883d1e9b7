using System.Diagnostics;
using Shoal.DataPath.Memory;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Volume;

/// <summary>
/// Checksums at rest, on the client side: a block a target answers <see cref="WireStatus.Corrupt"/> for is served
/// from another in-sync leg (the I/O path) and repaired from it here, on the maintenance thread, under the region's
/// lock so no application write interleaves. A scrub reads every in-sync leg and repairs what it finds the same way.
/// </summary>
public sealed unsafe partial class VolumeEngine
{
    private const int BlockBytes = Drives.BlockChecksums.BlockBytes;

    /// <summary>Bound on ranges waiting for repair; beyond it a range is dropped (logged): the next read or scrub finds it again.</summary>
    private const int MaxPendingRepairs = 256;

    /// <summary>Bound on lost blocks remembered (so each is counted and logged once, not on every read or retry of it).</summary>
    private const int MaxLostBlocksRemembered = 4096;

    private readonly Queue<(int Group, long SegmentOffsetBytes, int LengthBytes)> _repairs = new();

    /// <summary>Blocks found bad on every in-sync leg (maintenance thread only); forgotten once a leg holds them intact again.</summary>
    private readonly HashSet<(int Group, long SegmentOffsetBytes)> _lostBlocks = [];
    private readonly object _repairGate = new();
    private BlockMemory? _repairBuffer; // [0] the good copy of a block, [1] a leg's copy, [2] zeros
    private volatile bool _scrubRequested;
    private ScrubStatus _scrub;
    private readonly object _scrubGate = new();

    /// <summary>The last (or current) scrub's state and counts.</summary>
    public ScrubStatus Scrubbing
    {
        get
        {
            lock (_scrubGate)
            {
                return _scrub;
            }
        }
    }

    /// <summary>Asks the maintenance thread to scrub every in-sync leg; false when a scrub is already queued or running.</summary>
    public bool StartScrub()
    {
        lock (_scrubGate)
        {
            if (_scrub.State is ScrubState.Queued or ScrubState.Running)
            {
                return false;
            }
            _scrub = new ScrubStatus(ScrubState.Queued, _scrub.Runs, 0, 0, 0, 0, 0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0);
            _scrubRequested = true;
            return true;
        }
    }

    private void CorruptReadServed(SubIo sub)
    {
        Interlocked.Increment(ref _counters.CorruptReadsServed);
        QueueRepair(sub);
    }

    private void QueueRepair(SubIo sub)
    {
        Chunk chunk = sub.Parent.Chunks[sub.Chunk];
        lock (_repairGate)
        {
            if (_repairs.Count >= MaxPendingRepairs)
            {
                _log($"volume {Name}: repair queue full; group {sub.Group} offset {chunk.SegmentOffsetBytes} left for the next read or scrub");
                return;
            }
            _repairs.Enqueue((sub.Group, chunk.SegmentOffsetBytes, chunk.LengthBytes));
        }
    }

    private void RunRepairs()
    {
        while (!_stopping)
        {
            (int Group, long SegmentOffsetBytes, int LengthBytes) next;
            lock (_repairGate)
            {
                if (!_repairs.TryDequeue(out next))
                {
                    return;
                }
            }
            RepairBlocks(_view, next.Group, next.SegmentOffsetBytes, next.LengthBytes, regionsLocked: false);
        }
    }

    private readonly record struct RepairOutcome(int Bad, int Repaired, int Unrepairable, bool Busy);

    /// <summary>
    /// Checks every 4 KiB block of the range on every in-sync leg and rewrites the legs that fail it from one that
    /// passes. A block no in-sync leg holds intact is a write torn by a dead session when its region is one that
    /// session left marked (any content is then correct: it is rewritten as zeros on every leg, consistently); anywhere
    /// else it is lost data, counted, and reads of it keep failing. Takes the regions' locks unless the caller holds them.
    /// </summary>
    private RepairOutcome RepairBlocks(View v, int group, long segmentOffsetBytes, int lengthBytes, bool regionsLocked)
    {
        VolumeLayout layout = v.Layout;
        long start = segmentOffsetBytes & ~(long)(BlockBytes - 1);
        long end = Math.Min(layout.SegmentBytes, (segmentOffsetBytes + lengthBytes + BlockBytes - 1) & ~(long)(BlockBytes - 1));
        int firstRegion = (int)(start / layout.RegionBytes);
        int lastRegion = (int)((end - 1) / layout.RegionBytes);
        RegionTable table = _regions[group];
        int locked = firstRegion;
        if (!regionsLocked)
        {
            for (; locked <= lastRegion; locked++)
            {
                if (!table.TryLock(locked, RegionLockTimeoutMs))
                {
                    for (int r = firstRegion; r < locked; r++)
                    {
                        table.Unlock(r);
                    }
                    _log($"volume {Name}: repair of group {group} at {start}: region {locked} stayed busy; left for the next read or scrub");
                    return new RepairOutcome(0, 0, 0, Busy: true);
                }
            }
        }
        try
        {
            _repairBuffer ??= NewRepairBuffer();
            byte* good = _repairBuffer.Pointer(0);
            byte* copy = _repairBuffer.Pointer(1);
            byte* zeros = _repairBuffer.Pointer(2);
            int bad = 0, repaired = 0, unrepairable = 0, newlyLost = 0;
            for (long offset = start; offset < end; offset += BlockBytes)
            {
                int goodLeg = -1;
                int badLegs = 0;
                int inSync = 0;
                for (int l = 0; l < layout.Groups[group].Legs.Length; l++)
                {
                    if (layout.Groups[group].Legs[l].State != LegState.InSync)
                    {
                        continue;
                    }
                    inSync |= 1 << l;
                    WireStatus status = LegBlock(v, group, l, WireOp.Read, offset, goodLeg < 0 ? good : copy);
                    if (status == WireStatus.Ok && goodLeg < 0)
                    {
                        goodLeg = l;
                    }
                    else if (status == WireStatus.Corrupt)
                    {
                        badLegs |= 1 << l;
                    }
                }
                if (goodLeg >= 0 && _lostBlocks.Count > 0)
                {
                    _lostBlocks.Remove((group, offset)); // written again since
                }
                if (badLegs == 0)
                {
                    continue;
                }
                bad++;
                int region = (int)(offset / layout.RegionBytes);
                bool torn = _reconcile?[group] is { } seeded && seeded[region];
                if (goodLeg < 0 && !torn)
                {
                    unrepairable++;
                    if (_lostBlocks.Count < MaxLostBlocksRemembered && _lostBlocks.Add((group, offset)))
                    {
                        newlyLost++;
                        _log($"volume {Name}: group {group} block at {offset} fails its checksum on every in-sync leg: data lost, reads of it fail");
                    }
                    continue;
                }
                byte* source = goodLeg < 0 ? zeros : good;
                int targets = goodLeg < 0 ? inSync : badLegs;
                bool all = true;
                for (int l = 0; l < layout.Groups[group].Legs.Length; l++)
                {
                    if ((targets & (1 << l)) != 0)
                    {
                        all &= LegBlock(v, group, l, WireOp.Write, offset, source) == WireStatus.Ok;
                    }
                }
                if (all)
                {
                    repaired++;
                    _log($"volume {Name}: group {group} block at {offset}: repaired on legs 0x{targets:x} {(goodLeg < 0 ? "(torn write of a dead session, rewritten as zeros)" : $"from leg {goodLeg}")}");
                }
            }
            Interlocked.Add(ref _counters.BlocksRepaired, repaired);
            Interlocked.Add(ref _counters.UnrepairableBlocks, newlyLost);
            return new RepairOutcome(bad, repaired, unrepairable, Busy: false);
        }
        finally
        {
            if (!regionsLocked)
            {
                for (int r = firstRegion; r < locked; r++)
                {
                    table.Unlock(r);
                }
            }
        }
    }

    private static BlockMemory NewRepairBuffer()
    {
        var memory = new BlockMemory(BlockBytes, 3);
        memory.Span(2).Clear();
        return memory;
    }

    /// <summary>Reads or writes (without marking intent: every leg is to hold the same bytes) one 4 KiB block of a leg.</summary>
    private static WireStatus LegBlock(View v, int group, int leg, WireOp op, long segmentOffsetBytes, byte* buffer) =>
        LegIo(v, group, leg, op, op == WireOp.Write ? WireFlags.NoIntent : WireFlags.None, segmentOffsetBytes, BlockBytes, buffer);

    /// <summary>
    /// Reads every in-sync leg of every group piece by piece (at the resync rate); a piece a leg answers
    /// <see cref="WireStatus.Corrupt"/> for is checked block by block on every leg and repaired.
    /// </summary>
    private void Scrub()
    {
        _scrubRequested = false;
        View v = _view;
        VolumeLayout layout = v.Layout;
        _copyBuffer ??= new BlockMemory(Math.Min(layout.RegionBytes, WireHeader.MaxPayloadBytes), 1);
        byte* buffer = _copyBuffer.Pointer(0);
        int piece = _copyBuffer.BufferBytes;
        long totalBlocks = 0;
        foreach (SegmentGroup g in layout.Groups)
        {
            totalBlocks += g.InSyncCount * (layout.SegmentBytes / BlockBytes);
        }
        UpdateScrub(s => s with { State = ScrubState.Running, Runs = s.Runs + 1, TotalBlocks = totalBlocks });
        _log($"scrub-start volume={Name} groups={layout.Groups.Length} blocks={totalBlocks}");
        var stopwatch = Stopwatch.StartNew();
        long readBytes = 0;
        bool complete = true;
        for (int g = 0; g < layout.Groups.Length && complete; g++)
        {
            for (long offset = 0; offset < layout.SegmentBytes && complete; offset += piece)
            {
                if (_stopping)
                {
                    complete = false;
                    break;
                }
                v = _view;
                int length = (int)Math.Min(piece, layout.SegmentBytes - offset);
                bool corrupt = false;
                int scanned = 0;
                for (int l = 0; l < v.Layout.Groups[g].Legs.Length; l++)
                {
                    if (v.Layout.Groups[g].Legs[l].State != LegState.InSync)
                    {
                        continue;
                    }
                    Throttle(readBytes, stopwatch);
                    WireStatus status = LegIo(v, g, l, WireOp.Read, WireFlags.None, offset, length, buffer);
                    readBytes += length;
                    scanned += length / BlockBytes;
                    corrupt |= status == WireStatus.Corrupt;
                    if (status is not (WireStatus.Ok or WireStatus.Corrupt))
                    {
                        _log($"volume {Name}: scrub of group {g} leg {l} at {offset}: {status}; stopping (run it again when the leg is back)");
                        complete = false;
                    }
                }
                RepairOutcome outcome = corrupt ? RepairBlocks(v, g, offset, length, regionsLocked: false) : default;
                UpdateScrub(s => s with
                {
                    ScannedBlocks = s.ScannedBlocks + scanned,
                    BadBlocks = s.BadBlocks + outcome.Bad,
                    RepairedBlocks = s.RepairedBlocks + outcome.Repaired,
                    UnrepairableBlocks = s.UnrepairableBlocks + outcome.Unrepairable,
                });
                RunRepairs();
            }
        }
        UpdateScrub(s => s with { State = complete ? ScrubState.Done : ScrubState.Stopped, FinishedUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        ScrubStatus done = Scrubbing;
        _log($"scrub-{(complete ? "complete" : "stopped")} volume={Name} scanned={done.ScannedBlocks} bad={done.BadBlocks} repaired={done.RepairedBlocks} unrepairable={done.UnrepairableBlocks} ms={stopwatch.ElapsedMilliseconds}");
    }

    private void UpdateScrub(Func<ScrubStatus, ScrubStatus> change)
    {
        lock (_scrubGate)
        {
            _scrub = change(_scrub);
        }
    }
}
