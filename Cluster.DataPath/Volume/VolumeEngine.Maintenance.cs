using System.Diagnostics;
using Shoal.DataPath.Memory;
using Shoal.DataPath.Target;
using Shoal.DataPath.Transport;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Volume;

/// <summary>
/// The maintenance thread: reconnects targets, resyncs legs that return (only the regions the
/// write-intent bitmaps name) and lazily clears intent bits of idle regions once all legs agree.
/// </summary>
public sealed unsafe partial class VolumeEngine
{
    private const int RegionLockTimeoutMs = 5000;

    /// <summary>Longest wait before a stale leg the control port would not take back is offered again.</summary>
    private const int MaxReturnBackoffMs = 30_000;

    private readonly Dictionary<(int Group, int Leg), (long NotBeforeTicks, int BackoffMs)> _returnBackoff = [];

    /// <summary>
    /// The last checkpoint this engine reported for a full rebuild, with the epoch it reported it at. The layout's
    /// <see cref="LegSegment.RebuildFromBytes"/> is the entity's checkpoint as of the last layout change: a rebuild
    /// that stopped without one (its source or destination went away and came back) resumes from this one instead.
    /// Tied to the epoch because every layout change raises it: a replaced segment can never inherit a checkpoint.
    /// </summary>
    private readonly Dictionary<(int Group, int Leg), (ulong Epoch, long DoneBytes)> _rebuildDone = [];
    private BlockMemory? _copyBuffer;
    private ulong[]? _cleanMask;

    /// <summary>
    /// Per group, the regions an earlier session of a writer left marked (seeded at attach): their in-sync legs may
    /// differ (the session died between the legs' writes), so before their intent is cleared one leg's copy is made
    /// every leg's. Without it, reads of such a block could return old and new data by turns.
    /// </summary>
    private bool[][]? _reconcile;
    private int[]? _cleanLocked;

    private void MaintenanceLoop()
    {
        long nextProbe = 0;
        long nextClean = Environment.TickCount64 + _options.CleanIntervalMs;
        long nextRefresh = Environment.TickCount64 + _options.RefreshIntervalMs;
        while (!_stopping)
        {
            long now = Environment.TickCount64;
            try
            {
                if (now >= nextProbe)
                {
                    nextProbe = now + _options.ReprobeIntervalMs;
                    Reprobe();
                }
                if (now >= nextRefresh)
                {
                    nextRefresh = now + _options.RefreshIntervalMs;
                    Refresh();
                }
                if (now >= nextClean)
                {
                    nextClean = now + _options.CleanIntervalMs;
                    ClearIdleIntent();
                }
                RunRepairs();
                if (_scrubRequested)
                {
                    Scrub();
                }
            }
            catch (Exception e)
            {
                _log($"volume {Name}: maintenance failed: {e.Message}");
            }
            _stop.Wait(100);
        }
    }

    private void Refresh()
    {
        VolumeLayout? newer = _control.Refresh(_view.Layout);
        if (newer == null)
        {
            return;
        }
        lock (_layoutGate)
        {
            if (newer.Epoch > _view.Layout.Epoch && newer.VolumeId == _view.Layout.VolumeId && newer.WriterId == _view.Layout.WriterId)
            {
                Install(newer);
                _log($"volume {Name}: layout refreshed to epoch {newer.Epoch}");
            }
        }
        // Links to targets the new layout brought in (a replacement leg's node) connect here, not on the I/O path.
        foreach (TargetLink link in _view.FlushTargets)
        {
            if (!link.Connected)
            {
                link.Connect(1000);
            }
        }
    }

    private void Reprobe()
    {
        View v = _view;
        for (int g = 0; g < v.Layout.Groups.Length; g++)
        {
            for (int l = 0; l < v.Layout.Groups[g].Legs.Length; l++)
            {
                TargetLink link = v.Links[g][l];
                if (!link.Connected && !link.Connect(1000))
                {
                    continue;
                }
                if (v.Layout.Groups[g].Legs[l].State != LegState.InSync && !_stopping)
                {
                    // A leg whose target answers but that the control plane keeps stale (its node cannot be fenced
                    // yet, e.g. it has not rejoined) is offered again with a growing delay, not every second.
                    bool stale = v.Layout.Groups[g].Legs[l].State == LegState.Stale;
                    long now = Environment.TickCount64;
                    if (stale && _returnBackoff.TryGetValue((g, l), out var backoff) && now < backoff.NotBeforeTicks)
                    {
                        continue;
                    }
                    Resync(g, l);
                    v = _view;
                    if (stale && v.Layout.Groups[g].Legs[l].State == LegState.Stale)
                    {
                        int next = Math.Min(MaxReturnBackoffMs, Math.Max(_options.ReprobeIntervalMs, _returnBackoff.GetValueOrDefault((g, l)).BackoffMs * 2));
                        _returnBackoff[(g, l)] = (Environment.TickCount64 + next, next);
                    }
                    else
                    {
                        _returnBackoff.Remove((g, l));
                    }
                }
            }
        }
    }

    private void SeedDirtyRegions()
    {
        View v = _view;
        for (int g = 0; g < v.Layout.Groups.Length; g++)
        {
            for (int l = 0; l < v.Layout.Groups[g].Legs.Length; l++)
            {
                if (v.Layout.Groups[g].Legs[l].Active && SegmentInfoOf(v, g, l) is { } info)
                {
                    MarkDirty(_regions[g], info.Bitmap);
                    _reconcile ??= new bool[v.Layout.Groups.Length][];
                    _reconcile[g] ??= new bool[_regions[g].Count];
                    for (int r = 0; r < _regions[g].Count && (r >> 6) < info.Bitmap.Length; r++)
                    {
                        _reconcile[g][r] |= (info.Bitmap[r >> 6] & (1UL << (r & 63))) != 0;
                    }
                }
            }
        }
    }

    private static void MarkDirty(RegionTable table, ulong[] bitmap)
    {
        for (int r = 0; r < table.Count && (r >> 6) < bitmap.Length; r++)
        {
            if ((bitmap[r >> 6] & (1UL << (r & 63))) != 0)
            {
                table.MarkDirty(r);
            }
        }
    }

    private SegmentInfo? SegmentInfoOf(View v, int group, int leg)
    {
        LegSegment segment = v.Layout.Groups[group].Legs[leg];
        var header = new WireHeader { Op = WireOp.SegmentInfo, DriveIndex = segment.Drive, SegmentIndex = segment.Segment };
        if (v.Links[group][leg].Call(header, null, out byte[] reply) != WireStatus.Ok)
        {
            return null;
        }
        SegmentInfo info = SegmentInfo.Decode(reply);
        return info.VolumeId == v.Layout.VolumeId ? info : null;
    }

    /// <summary>
    /// Brings a stale or rebuilding leg back: the control port makes it Rebuilding (it receives new
    /// writes from then on), then every region named by any leg's intent bitmap, or written by this
    /// client since the last clear, is copied from an in-sync leg under the region's lock; a full
    /// rebuild also copies every region from its checkpoint on.
    /// </summary>
    private void Resync(int group, int leg)
    {
        View v;
        lock (_layoutGate)
        {
            if (_view.Layout.Groups[group].Legs[leg].State == LegState.Stale)
            {
                Install(_control.LegReturned(_view.Layout, group, leg, this));
            }
            v = _view;
        }
        if (v.Layout.Groups[group].Legs[leg].State != LegState.Rebuilding)
        {
            return;
        }
        var stopwatch = Stopwatch.StartNew();
        RegionTable table = _regions[group];
        bool[] dirty = new bool[table.Count];
        for (int l = 0; l < v.Layout.Groups[group].Legs.Length; l++)
        {
            if (!v.Layout.Groups[group].Legs[l].Active)
            {
                continue;
            }
            SegmentInfo? info = SegmentInfoOf(v, group, l);
            if (info == null)
            {
                if (l != leg)
                {
                    _log($"volume {Name}: resync of group {group} leg {leg}: cannot read leg {l}'s intent bitmap; will retry");
                    return;
                }
                Array.Fill(dirty, true); // the returning leg cannot say what it holds: copy everything
                continue;
            }
            for (int r = 0; r < dirty.Length; r++)
            {
                dirty[r] |= (info.Bitmap[r >> 6] & (1UL << (r & 63))) != 0;
            }
        }
        for (int r = 0; r < dirty.Length; r++)
        {
            dirty[r] |= table.IsDirty(r);
        }
        // A full rebuild copies everything from its checkpoint on; below it, only what was written since (the
        // bitmaps): the rebuilding leg received every write after the rebuild started.
        long? from = v.Layout.Groups[group].Legs[leg].RebuildFromBytes;
        if (from is long layoutBytes && _rebuildDone.TryGetValue((group, leg), out var own) && own.Epoch == v.Layout.Epoch && own.DoneBytes > layoutBytes)
        {
            from = own.DoneBytes;
        }
        int fromRegion = from is long fromBytes ? (int)(fromBytes / v.Layout.RegionBytes) : dirty.Length;

        int toCopy = 0;
        for (int r = 0; r < dirty.Length; r++)
        {
            toCopy += dirty[r] || r >= fromRegion ? 1 : 0;
        }
        _log($"resync-start volume={Name} group={group} leg={leg} fromBytes={(from is long f ? f.ToString(System.Globalization.CultureInfo.InvariantCulture) : "delta")} regions={toCopy} totalRegions={dirty.Length}");

        _copyBuffer ??= new BlockMemory(Math.Min(v.Layout.RegionBytes, WireHeader.MaxPayloadBytes), 1);
        long copied = 0;
        int regions = 0;
        long reported = from ?? 0;
        bool unflushed = false;
        for (int r = 0; r < dirty.Length && !_stopping; r++)
        {
            long regionEnd = (long)(r + 1) * v.Layout.RegionBytes;
            if (regionEnd - reported >= _options.CheckpointBytes)
            {
                // Every dirty region below r is copied: that is the checkpoint a restarted rebuild resumes from, once
                // the copies are durable (nothing below it is copied again, and most copies leave no intent bit).
                if (unflushed && !FlushCopies(group, leg))
                {
                    return;
                }
                unflushed = false;
                VolumeLayout at = _view.Layout;
                reported = (long)r * v.Layout.RegionBytes;
                _control.RebuildProgress(at, group, leg, reported);
                if (from != null)
                {
                    _rebuildDone[(group, leg)] = (at.Epoch, reported);
                }
            }
            // A region no bitmap names is copied (a full rebuild's) without marking intent on the destination: its
            // bitmap then keeps naming only regions that may differ between the legs, and a resumed rebuild can
            // trust it below its checkpoint. A copy of a named region marks intent like any write: on mirror:3 the
            // only record that it changed may otherwise leave with the leg it was copied from.
            bool named = dirty[r];
            if (!named && r < fromRegion)
            {
                continue;
            }
            Throttle(copied, stopwatch);
            if (!table.TryLock(r, RegionLockTimeoutMs))
            {
                _log($"volume {Name}: resync of group {group} leg {leg}: region {r} stayed busy; will retry");
                return;
            }
            try
            {
                WireStatus status = CopyRegion(group, leg, r, markIntent: named);
                if (status != WireStatus.Ok)
                {
                    _log($"volume {Name}: resync of group {group} leg {leg}: region {r} copy failed ({status}); will retry");
                    return;
                }
            }
            finally
            {
                table.Unlock(r);
            }
            copied += v.Layout.RegionBytes;
            regions++;
            unflushed = true;
            Interlocked.Add(ref _counters.ResyncBytes, v.Layout.RegionBytes);
            Interlocked.Increment(ref _counters.ResyncRegions);
        }
        if (_stopping || (unflushed && !FlushCopies(group, leg)))
        {
            return;
        }
        lock (_layoutGate)
        {
            Install(_control.LegResynced(_view.Layout, group, leg, this));
        }
        _rebuildDone.Remove((group, leg));
        _log($"resync-complete volume={Name} group={group} leg={leg} regions={regions} bytesCopied={copied} totalRegions={dirty.Length} ms={stopwatch.ElapsedMilliseconds}");
    }

    /// <summary>
    /// Makes the copies into a rebuilding leg durable (a flush of its target) before they are vouched for: by a
    /// checkpoint, or by the leg turning in sync. False, logged, when the target cannot flush: the resync is retried.
    /// </summary>
    private bool FlushCopies(int group, int leg)
    {
        WireStatus status = _view.Links[group][leg].Call(new WireHeader { Op = WireOp.Flush }, null, out _);
        if (status != WireStatus.Ok)
        {
            _log($"volume {Name}: resync of group {group} leg {leg}: flushing the copies failed ({status}); will retry");
        }
        return status == WireStatus.Ok;
    }

    /// <summary>Holds the copy back to <see cref="EngineOptions.ResyncBytesPerSecond"/>; wakes early when the engine stops.</summary>
    private void Throttle(long copiedBytes, Stopwatch elapsed)
    {
        long rate = _options.ResyncBytesPerSecond;
        if (rate <= 0)
        {
            return;
        }
        long dueMs = copiedBytes * 1000 / rate;
        long aheadMs = dueMs - elapsed.ElapsedMilliseconds;
        if (aheadMs > 0)
        {
            _stop.Wait((int)Math.Min(aheadMs, 10_000));
        }
    }

    private WireStatus CopyRegion(int group, int leg, int region, bool markIntent)
    {
        byte* buffer = _copyBuffer!.Pointer(0);
        int piece = _copyBuffer.BufferBytes;
        for (int attempt = 0; ; attempt++)
        {
            View v = _view;
            if (v.Layout.Groups[group].Legs[leg].State != LegState.Rebuilding)
            {
                return WireStatus.Invalid;
            }
            int source = PickReadLeg(v.Layout, group, triedMask: 0);
            if (source < 0)
            {
                return WireStatus.IoError;
            }
            WireStatus status = WireStatus.Ok;
            long start = (long)region * v.Layout.RegionBytes;
            for (long done = 0; done < v.Layout.RegionBytes && status == WireStatus.Ok; done += piece)
            {
                status = CopyPiece(v, group, source, leg, start + done, piece, buffer, markIntent);
            }
            if (status is WireStatus.StaleEpoch && attempt < _options.MaxAttempts)
            {
                continue; // the layout moved under us: redo the region at the new epoch
            }
            if (status is WireStatus.EpochAhead && attempt < _options.MaxAttempts)
            {
                // A leg's target missed the fence for our epoch (it was away when it was raised): push it again to
                // both ends of the copy, as the I/O path does, then redo the region.
                lock (_layoutGate)
                {
                    v = _view;
                    Fence(v.Layout, group, source, v.Layout.Epoch);
                    Fence(v.Layout, group, leg, v.Layout.Epoch);
                }
                continue;
            }
            return status;
        }
    }

    private WireStatus CopyPiece(View v, int group, int source, int destination, long segmentOffset, int length, byte* buffer, bool markIntent)
    {
        WireStatus status = LegIo(v, group, source, WireOp.Read, WireFlags.None, segmentOffset, length, buffer);
        if (status == WireStatus.Corrupt)
        {
            // The caller holds the region: repair the source's bad blocks from another in-sync leg (or rewrite a torn
            // write a dead session left on every leg), then copy what the source holds now.
            RepairBlocks(v, group, segmentOffset, length, regionsLocked: true);
            status = LegIo(v, group, source, WireOp.Read, WireFlags.None, segmentOffset, length, buffer);
        }
        if (status != WireStatus.Ok)
        {
            return status;
        }
        // A copy of a region a bitmap names marks intent on its destination like any write: on mirror:3 the only
        // record that the region changed may otherwise leave with the leg it was copied from (found by the
        // simulation, seed 827).
        return LegIo(v, group, destination, WireOp.Write, markIntent ? WireFlags.None : WireFlags.NoIntent, segmentOffset, length, buffer);
    }

    /// <summary>One synchronous read (into <paramref name="buffer"/>) or write (from it) of a range of one leg's segment, at the view's epoch.</summary>
    private static WireStatus LegIo(View v, int group, int leg, WireOp op, WireFlags flags, long segmentOffset, int length, byte* buffer)
    {
        VolumeLayout layout = v.Layout;
        LegSegment segment = layout.Groups[group].Legs[leg];
        var header = new WireHeader
        {
            Op = op,
            Flags = flags,
            VolumeId = layout.VolumeId,
            Epoch = layout.Epoch,
            WriterId = layout.WriterId,
            DriveIndex = segment.Drive,
            SegmentIndex = segment.Segment,
            LegIndex = (uint)leg,
            OffsetBytes = (ulong)segmentOffset,
            LengthBytes = (uint)length,
        };
        return op == WireOp.Write
            ? v.Links[group][leg].Call(header, buffer, length, null, 0, out _)
            : v.Links[group][leg].Call(header, null, 0, buffer, length, out _);
    }

    /// <summary>
    /// Makes every leg of the group hold the first leg's copy of the region (all legs are in sync, the region is
    /// locked). Either version is a correct answer for writes a dead session never acknowledged; what matters is that
    /// every later read returns the same one.
    /// </summary>
    private bool Reconcile(View v, int group, int region)
    {
        _copyBuffer ??= new BlockMemory(Math.Min(v.Layout.RegionBytes, WireHeader.MaxPayloadBytes), 1);
        byte* buffer = _copyBuffer.Pointer(0);
        int piece = _copyBuffer.BufferBytes;
        long start = (long)region * v.Layout.RegionBytes;
        for (int leg = 1; leg < v.Layout.Groups[group].Legs.Length; leg++)
        {
            for (long done = 0; done < v.Layout.RegionBytes; done += piece)
            {
                WireStatus status = CopyPiece(v, group, 0, leg, start + done, piece, buffer, markIntent: true);
                if (status != WireStatus.Ok)
                {
                    _log($"volume {Name}: reconciling group {group} region {region} onto leg {leg}: {status}; retried later");
                    return false;
                }
            }
        }
        Interlocked.Increment(ref _counters.ReconciledRegions);
        return true;
    }

    /// <summary>Clears the intent bits of regions that every leg holds and nobody has written for a while.</summary>
    private void ClearIdleIntent()
    {
        View v = _view;
        long now = Environment.TickCount64;
        int regionCount = _regions.Length == 0 ? 0 : _regions[0].Count;
        // Reused across rounds: the maintenance thread allocates nothing while the volume is steady.
        _cleanMask ??= new ulong[(regionCount + 63) / 64];
        _cleanLocked ??= new int[regionCount];
        for (int g = 0; g < v.Layout.Groups.Length; g++)
        {
            if (v.Layout.Groups[g].InSyncCount != v.Layout.Groups[g].Legs.Length)
            {
                continue;
            }
            RegionTable table = _regions[g];
            Array.Clear(_cleanMask);
            int locked = 0;
            for (int r = 0; r < table.Count; r++)
            {
                if (table.IsDirty(r) && table.Idle(r, now, _options.CleanIdleMs) && table.TryLock(r, 100))
                {
                    if (_reconcile is { } reconcile && g < reconcile.Length && reconcile[g] is { } seeded && seeded[r])
                    {
                        if (!Reconcile(v, g, r))
                        {
                            table.Unlock(r);
                            continue; // tried again next round; the bits stay until the legs agree
                        }
                        seeded[r] = false;
                    }
                    _cleanLocked[locked++] = r;
                    _cleanMask[r >> 6] |= 1UL << (r & 63);
                }
            }
            if (locked == 0)
            {
                continue;
            }
            try
            {
                bool all = true;
                fixed (ulong* mask = _cleanMask)
                {
                    for (int l = 0; l < v.Layout.Groups[g].Legs.Length; l++)
                    {
                        LegSegment leg = v.Layout.Groups[g].Legs[l];
                        var header = new WireHeader
                        {
                            Op = WireOp.ClearIntent,
                            VolumeId = v.Layout.VolumeId,
                            Epoch = v.Layout.Epoch,
                            WriterId = v.Layout.WriterId,
                            DriveIndex = leg.Drive,
                            SegmentIndex = leg.Segment,
                        };
                        all &= v.Links[g][l].Call(header, (byte*)mask, _cleanMask.Length * 8, null, 0, out _) == WireStatus.Ok;
                    }
                }
                if (all)
                {
                    for (int i = 0; i < locked; i++)
                    {
                        table.MarkClean(_cleanLocked[i]);
                    }
                    Interlocked.Add(ref _counters.IntentClears, locked);
                }
            }
            finally
            {
                for (int i = 0; i < locked; i++)
                {
                    table.Unlock(_cleanLocked[i]);
                }
            }
        }
    }
}
