using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using Shoal.DataPath.Control;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Target;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Tests;

/// <summary>
/// A full rebuild that stops part-way resumes from its checkpoint: copying what lies above it and, below it, only
/// the regions a write-intent bitmap names. And regions a dead writer left marked are made identical on every leg
/// before their bits are cleared. Two in-process targets, one mirror:2 group of 16 regions whose second leg
/// is a blank replacement segment, and a control port that keeps the checkpoints as the volume entity does.
/// </summary>
public sealed unsafe class RebuildResumeTests : IDisposable
{
    private const long SegmentBytes = 16L << 20;
    private const int RegionBytes = 1 << 20;
    private const long CheckpointBytes = 4L << 20;

    private readonly TempDir _dir = new();
    private readonly ClusterKey _key = new("rebuild-resume-test-cluster-key!"u8.ToArray());
    private readonly DriveStore[] _drives = new DriveStore[2];
    private readonly TargetServer?[] _targets = new TargetServer?[2];
    private readonly IPEndPoint[] _endpoints = new IPEndPoint[2];
    private readonly ConcurrentQueue<string> _log = new();
    private readonly byte[] _data = new byte[SegmentBytes];

    public RebuildResumeTests()
    {
        for (int t = 0; t < 2; t++)
        {
            _drives[t] = DriveStore.Open(_dir.File($"t{t}.img"), new DriveOpenOptions
            {
                ClusterId = _key.ClusterId,
                CreateBytes = 64L << 20,
                SegmentBytes = SegmentBytes,
                RegionBytes = RegionBytes,
            }, _ => { });
            StartTarget(t, new IPEndPoint(IPAddress.Loopback, 0));
            _endpoints[t] = _targets[t]!.LocalEndPoint!;
        }
        new Random(20261124).NextBytes(_data);
    }

    private void StartTarget(int t, IPEndPoint endpoint)
    {
        var server = new TargetServer($"t{t}", [_drives[t]], _key, new TargetOptions(), _ => { });
        server.Start(endpoint);
        _targets[t] = server;
    }

    /// <summary>One group: t0's segment 0, and on t1 either segment 0 (in sync) or the blank segment 1 being rebuilt.</summary>
    private VolumeLayout Layout(ulong epoch, LegSegment second) => new()
    {
        Name = "vol",
        VolumeId = 9,
        SizeBytes = SegmentBytes,
        Kind = LayoutKind.Mirror,
        SegmentBytes = SegmentBytes,
        RegionBytes = RegionBytes,
        Epoch = epoch,
        WriterId = 77,
        Targets = ImmutableDictionary<string, string>.Empty.Add("t0", _endpoints[0].ToString()).Add("t1", _endpoints[1].ToString()),
        Groups = [new SegmentGroup([new LegSegment("t0", 0, 0, LegState.InSync), second])],
    };

    private static LegSegment Replacement(long fromBytes) => new("t1", 0, 1, LegState.Rebuilding) { RebuildFromBytes = fromBytes };

    private VolumeEngine Engine(VolumeLayout layout, CheckpointControl control, long resyncBytesPerSecond) =>
        new(layout, _key, control, new EngineOptions
        {
            MaxInflight = 8,
            ReprobeIntervalMs = 100,
            ResyncBytesPerSecond = resyncBytesPerSecond,
            CheckpointBytes = CheckpointBytes,
        }, line => _log.Enqueue(line));

    /// <summary>Fills t0 (and t1's old segment) with the test data through an engine and lets it clear every intent bit.</summary>
    private void Fill()
    {
        var control = new CheckpointControl();
        using VolumeEngine engine = Engine(Layout(1, new LegSegment("t1", 0, 0, LegState.InSync)), control, 0);
        engine.Start();
        for (long offset = 0; offset < SegmentBytes; offset += RegionBytes)
        {
            Write(engine, offset, RegionBytes);
        }
        WaitUntil(() => Interlocked.Read(ref engine.Counters.IntentClears) >= SegmentBytes / RegionBytes, "the fill's intent bits cleared");
        Assert.Equal(0, DirtyRegions(0, 0));
    }

    [Fact]
    public void A_new_engine_resumes_at_the_checkpoint_and_below_it_copies_only_what_a_bitmap_names()
    {
        Fill();

        // The first attempt copies slowly into the blank replacement and stops (its client died) after a checkpoint.
        var control = new CheckpointControl(DestinationFlushes);
        using (VolumeEngine first = Engine(Layout(10, Replacement(0)), control, 4L << 20))
        {
            first.Start();
            WaitUntil(() => control.DoneBytes >= 2 * CheckpointBytes, "two checkpoints of the first attempt");
        }
        long checkpoint = control.DoneBytes;

        // Written while no copy runs: region 1, below the checkpoint, now differs between the legs and t0's bitmap says so.
        using (VolumeEngine writer = Engine(Layout(20, new LegSegment("t1", 0, 1, LegState.Stale)), new CheckpointControl(), 0))
        {
            writer.Start();
            new Random(7).NextBytes(_data.AsSpan(RegionBytes + 4096, 8192));
            Write(writer, RegionBytes + 4096, 8192);
        }

        var resumedControl = new CheckpointControl(DestinationFlushes);
        using (VolumeEngine resumed = Engine(Layout(30, Replacement(checkpoint)), resumedControl, 0))
        {
            resumed.Start();
            WaitUntil(() => resumed.Layout.Groups[0].Legs[1].State == LegState.InSync, "the resumed rebuild to complete");
            long expected = SegmentBytes - checkpoint + RegionBytes;
            Assert.True(Interlocked.Read(ref resumed.Counters.ResyncBytes) == expected,
                $"resumed at {checkpoint}: copied {resumed.Counters.ResyncBytes} bytes, expected the {SegmentBytes - checkpoint} above the checkpoint and region 1 ({expected}). Log:\n{string.Join("\n", _log)}");
        }
        // The replacement's bitmap names what may differ between the legs (region 1), not every region it was given.
        Assert.InRange(DirtyRegions(1, 1), 0, 1);
        // Most copies leave no intent bit: each checkpoint, and the leg turning in sync, come after a flush of them.
        Assert.Equal(0, control.VouchedWithoutFlush);
        Assert.Equal(0, resumedControl.VouchedWithoutFlush);
        AssertReplacementHolds();
    }

    [Fact]
    public void A_rebuild_whose_source_went_away_resumes_at_the_engines_own_checkpoint()
    {
        Fill();

        // The layout says the rebuild starts at 0 and says nothing newer while the source is away (no layout change):
        // the engine's own checkpoints are what it resumes from.
        var control = new CheckpointControl(DestinationFlushes);
        using VolumeEngine engine = Engine(Layout(10, Replacement(0)), control, 4L << 20);
        engine.Start();
        WaitUntil(() => control.DoneBytes >= 2 * CheckpointBytes, "two checkpoints");
        _targets[0]!.Dispose();
        long atStop = control.DoneBytes;
        WaitUntil(() => _log.Any(l => l.Contains("region", StringComparison.Ordinal) && l.Contains("copy failed", StringComparison.Ordinal)), "the copy to fail without its source");
        StartTarget(0, _endpoints[0]);

        WaitUntil(() => engine.Layout.Groups[0].Legs[1].State == LegState.InSync, "the rebuild to complete");
        string[] starts = [.. _log.Where(l => l.StartsWith("resync-start", StringComparison.Ordinal))];
        Assert.True(starts.Length >= 2, string.Join("\n", _log));
        Assert.Contains("fromBytes=0 ", starts[0], StringComparison.Ordinal);
        long resumedFrom = long.Parse(starts[^1].Split("fromBytes=")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(resumedFrom >= atStop, $"resumed from {resumedFrom}, below the checkpoint {atStop} reported before the source went away");
        // At most a checkpoint's worth (and the region in flight) is copied twice.
        long copied = Interlocked.Read(ref engine.Counters.ResyncBytes);
        Assert.True(copied <= SegmentBytes + CheckpointBytes + RegionBytes, $"copied {copied} bytes for a {SegmentBytes}-byte segment");
        Assert.Equal(0, control.VouchedWithoutFlush);
        engine.Dispose();
        AssertReplacementHolds();
    }

    [Fact]
    public void Regions_a_dead_session_left_different_are_made_identical_before_their_intent_is_cleared()
    {
        Fill();

        // A writer died between its legs' writes: region 3 has new data on t0 only, region 5 on t1 only, both marked.
        byte[] torn = new byte[8192];
        new Random(11).NextBytes(torn);
        FenceBothLegs(40);
        fixed (byte* p = torn)
        {
            Assert.Equal(WireStatus.Ok, _drives[0].Write(0, 9, 40, 77, (3 * RegionBytes) + 4096, 8192, p, fua: true, markIntent: true));
            Assert.Equal(WireStatus.Ok, _drives[1].Write(0, 9, 40, 77, (5 * RegionBytes) + 4096, 8192, p, fua: true, markIntent: true));
        }
        Assert.False(ReadSegment(0, 0).AsSpan().SequenceEqual(ReadSegment(1, 0)));

        using VolumeEngine engine = Engine(Layout(50, new LegSegment("t1", 0, 0, LegState.InSync)), new CheckpointControl(), 0);
        engine.Start();
        WaitUntil(() => DirtyRegions(0, 0) == 0 && DirtyRegions(1, 0) == 0, "the seeded regions' intent bits cleared");
        Assert.True(ReadSegment(0, 0).AsSpan().SequenceEqual(ReadSegment(1, 0)), "the legs still differ after their intent bits were cleared");
        Assert.Equal(2, Interlocked.Read(ref engine.Counters.ReconciledRegions));
    }

    [Fact]
    public void Blocks_a_dead_session_tore_are_rewritten_by_reconcile_and_legs_end_identical_and_readable()
    {
        Fill();

        // A writer died between data and checksum: region 3's new block fails its check on both legs, region 5's on t0
        // only (t1 holds the old data there, intact). Both regions are marked.
        byte[] torn = new byte[8192];
        new Random(12).NextBytes(torn);
        FenceBothLegs(40);
        fixed (byte* p = torn)
        {
            for (int t = 0; t < 2; t++)
            {
                Assert.Equal(WireStatus.Ok, _drives[t].Write(0, 9, 40, 77, (3 * RegionBytes) + 4096, 8192, p, fua: true, markIntent: true));
            }
            Assert.Equal(WireStatus.Ok, _drives[0].Write(0, 9, 40, 77, (5 * RegionBytes) + 8192, 4096, p, fua: true, markIntent: true));
        }
        long data0 = _drives[0].Superblock.SegmentDataOffset(0);
        long data1 = _drives[1].Superblock.SegmentDataOffset(0);
        EngineIo.Flip(_drives[0].Path, data0 + (3 * RegionBytes) + 4096 + 5);
        EngineIo.Flip(_drives[1].Path, data1 + (3 * RegionBytes) + 4096 + 6);
        EngineIo.Flip(_drives[0].Path, data0 + (5 * RegionBytes) + 8192 + 7);

        using VolumeEngine engine = Engine(Layout(50, new LegSegment("t1", 0, 0, LegState.InSync)), new CheckpointControl(), 0);
        engine.Start();
        WaitUntil(() => DirtyRegions(0, 0) == 0 && DirtyRegions(1, 0) == 0, "the seeded regions' intent bits cleared");
        Assert.True(ReadSegment(0, 0).AsSpan().SequenceEqual(ReadSegment(1, 0)), "the legs still differ after their intent bits were cleared");
        Assert.Equal(2, Interlocked.Read(ref engine.Counters.BlocksRepaired));
        Assert.Equal(0, Interlocked.Read(ref engine.Counters.UnrepairableBlocks));
        for (long offset = 0; offset < SegmentBytes; offset += RegionBytes)
        {
            Assert.Equal(0, EngineIo.Read(engine, offset, RegionBytes).Errno);
        }
        // The block intact on t1 won; the block torn everywhere reads as zeros on both legs.
        Assert.True(EngineIo.Read(engine, (5 * RegionBytes) + 8192, 4096).Data.AsSpan().SequenceEqual(_data.AsSpan((5 * RegionBytes) + 8192, 4096)));
        Assert.All(EngineIo.Read(engine, (3 * RegionBytes) + 4096, 4096).Data, b => Assert.Equal(0, b));
    }

    /// <summary>The replacement segment holds exactly what was written through the engines.</summary>
    private void AssertReplacementHolds()
    {
        byte[] replacement = ReadSegment(1, 1);
        for (int r = 0; r < SegmentBytes / RegionBytes; r++)
        {
            Assert.True(replacement.AsSpan(r * RegionBytes, RegionBytes).SequenceEqual(_data.AsSpan(r * RegionBytes, RegionBytes)), $"region {r} of the replacement differs");
        }
    }

    private byte[] ReadSegment(int target, int segment)
    {
        _drives[target].Flush();
        using var file = new FileStream(_drives[target].Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] bytes = new byte[SegmentBytes];
        file.Position = _drives[target].Superblock.SegmentDataOffset(segment);
        file.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A writer's session at <paramref name="epoch"/> on segment 0 of both targets, as the engine's attach fences them.</summary>
    private void FenceBothLegs(ulong epoch)
    {
        for (int t = 0; t < 2; t++)
        {
            Assert.Equal(WireStatus.Ok, _targets[t]!.Fence(0, 0, 9, (uint)t, epoch, 77, force: false));
        }
    }

    private long DestinationFlushes() => Interlocked.Read(ref _targets[1]!.Counters.Flushes);

    private int DirtyRegions(int target, uint segment) => _targets[target]!.SegmentInfo(0, segment)!.DirtyRegions;

    private void Write(VolumeEngine engine, long offset, int length) =>
        Assert.Equal(0, EngineIo.Write(engine, offset, _data.AsSpan((int)offset, length)));

    private static void WaitUntil(Func<bool> condition, string what) => EngineIo.WaitUntil(condition, what);

    public void Dispose()
    {
        foreach (TargetServer? t in _targets)
        {
            t?.Dispose();
        }
        foreach (DriveStore d in _drives)
        {
            d.Dispose();
        }
        _dir.Dispose();
    }

    /// <summary>
    /// The control port as the volume entity answers it, reduced to what a rebuild needs: attach fences every active leg
    /// at the layout's epoch, a failed leg goes stale, a resynced one in sync, and checkpoints are kept (never lowered).
    /// With <paramref name="destinationFlushes"/> it counts checkpoints and in-sync reports that no flush of the
    /// destination preceded.
    /// </summary>
    private sealed class CheckpointControl(Func<long>? destinationFlushes = null) : IVolumeControl
    {
        private long _doneBytes;
        private long _flushesAtLastVouch = destinationFlushes?.Invoke() ?? 0;
        private int _vouchedWithoutFlush;

        public long DoneBytes => Interlocked.Read(ref _doneBytes);

        public int VouchedWithoutFlush => Volatile.Read(ref _vouchedWithoutFlush);

        private void Vouch()
        {
            if (destinationFlushes == null)
            {
                return;
            }
            long flushes = destinationFlushes();
            if (flushes <= _flushesAtLastVouch)
            {
                Interlocked.Increment(ref _vouchedWithoutFlush);
            }
            _flushesAtLastVouch = flushes;
        }

        public VolumeLayout Attach(VolumeLayout requested, ILegFencer fencer)
        {
            for (int l = 0; l < requested.Groups[0].Legs.Length; l++)
            {
                if (requested.Groups[0].Legs[l].Active)
                {
                    Assert.Equal(WireStatus.Ok, fencer.Fence(requested, 0, l, requested.Epoch));
                }
            }
            return requested;
        }

        public VolumeLayout LegFailed(VolumeLayout current, int group, int leg, WireStatus reason, ILegFencer fencer) =>
            current.Groups[group].Legs[leg].State == LegState.InSync && current.Groups[group].InSyncCount == 1
                ? current
                : current.WithLegState(group, leg, LegState.Stale, current.Epoch + 1);

        public VolumeLayout LegReturned(VolumeLayout current, int group, int leg, ILegFencer fencer) => current;

        public VolumeLayout LegResynced(VolumeLayout current, int group, int leg, ILegFencer fencer)
        {
            Vouch();
            VolumeLayout next = current.WithLegState(group, leg, LegState.InSync, current.Epoch + 1);
            for (int l = 0; l < next.Groups[group].Legs.Length; l++)
            {
                fencer.Fence(next, group, l, next.Epoch);
            }
            return next;
        }

        public void RebuildProgress(VolumeLayout current, int group, int leg, long doneBytes)
        {
            Vouch();
            long seen;
            do
            {
                seen = Interlocked.Read(ref _doneBytes);
            }
            while (doneBytes > seen && Interlocked.CompareExchange(ref _doneBytes, doneBytes, seen) != seen);
        }

        public VolumeLayout? Refresh(VolumeLayout current) => null;
    }
}
