using System.Runtime.InteropServices;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Tests;

public sealed unsafe class DriveStoreTests : IDisposable
{
    private static readonly Guid s_cluster = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private readonly TempDir _dir = new();
    private readonly List<string> _log = [];

    private DriveOpenOptions Options(long create = 40 << 20, bool force = false, Guid? cluster = null) => new()
    {
        ClusterId = cluster ?? s_cluster,
        CreateBytes = create,
        SegmentBytes = 8 << 20,
        RegionBytes = 1 << 20,
        ForceFormat = force,
    };

    private DriveStore Open(string name = "d.img", DriveOpenOptions? options = null) => DriveStore.Open(_dir.File(name), options ?? Options(), _log.Add);

    public void Dispose() => _dir.Dispose();

    private static byte* Alloc(int bytes, byte fill)
    {
        byte* p = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 4096);
        new Span<byte>(p, bytes).Fill(fill);
        return p;
    }

    [Fact]
    public void Blank_drive_is_formatted_and_recognised_on_reopen()
    {
        Guid driveId;
        using (DriveStore d = Open())
        {
            Assert.True(d.Superblock.SegmentCount is > 0 and <= 5);
            driveId = d.Superblock.DriveId;
        }
        using DriveStore again = Open();
        Assert.Equal(driveId, again.Superblock.DriveId);
        Assert.Contains(_log, l => l.Contains("formatted", StringComparison.Ordinal));
    }

    [Fact]
    public void Another_clusters_drive_or_foreign_data_is_never_reformatted_without_force()
    {
        using (Open())
        {
        }
        byte[] before = File.ReadAllBytes(_dir.File("d.img"))[..8192];
        DriveException e = Assert.Throws<DriveException>(() => Open(options: Options(cluster: Guid.NewGuid())));
        Assert.Contains("belongs to cluster", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(_dir.File("d.img"))[..8192]);

        File.WriteAllBytes(_dir.File("foreign.img"), [.. "EXT4-ish data"u8, .. new byte[(40 << 20) - 13]]);
        DriveException f = Assert.Throws<DriveException>(() => Open("foreign.img"));
        Assert.Contains("not a Shoal superblock", f.Message, StringComparison.Ordinal);

        Guid other = Guid.NewGuid();
        using DriveStore forced = Open(options: Options(force: true, cluster: other));
        Assert.Equal(other, forced.Superblock.ClusterId);
    }

    [Fact]
    public void Fences_reject_stale_epochs_foreign_writers_other_volumes_and_ranges()
    {
        using DriveStore d = Open();
        byte* buf = Alloc(8192, 0xAB);
        try
        {
            // a free segment serves nobody
            Assert.Equal(WireStatus.Permission, d.Write(0, 7, 1, 100, 0, 4096, buf, false, true));
            Assert.Equal(WireStatus.Ok, d.Fence(0, 7, 0, 3, 100, false, TimeSpan.FromSeconds(1)));
            Assert.Equal(WireStatus.Ok, d.Write(0, 7, 3, 100, 0, 4096, buf, false, true));
            Assert.Equal(WireStatus.StaleEpoch, d.Write(0, 7, 2, 100, 0, 4096, buf, false, true));
            Assert.Equal(WireStatus.EpochAhead, d.Write(0, 7, 4, 100, 0, 4096, buf, false, true));
            Assert.Equal(WireStatus.Permission, d.Write(0, 7, 3, 101, 0, 4096, buf, false, true));
            Assert.Equal(WireStatus.Permission, d.Write(0, 8, 3, 100, 0, 4096, buf, false, true));
            Assert.Equal(WireStatus.Invalid, d.Write(0, 7, 3, 100, (8 << 20) - 4096, 8192, buf, false, true));
            Assert.Equal(WireStatus.Invalid, d.Read(0, 7, 3, 100, ulong.MaxValue - 10, 4096, buf));
            Assert.Equal(WireStatus.NotFound, d.Write(999, 7, 3, 100, 0, 4096, buf, false, true));
            // epochs never go back; another volume cannot take the segment without force
            Assert.Equal(WireStatus.StaleEpoch, d.Fence(0, 7, 0, 2, 100, false, TimeSpan.FromSeconds(1)));
            Assert.Equal(WireStatus.Permission, d.Fence(0, 8, 0, 9, 100, false, TimeSpan.FromSeconds(1)));
            // reads check the epoch but not the writer (shared readers)
            Assert.Equal(WireStatus.Ok, d.Read(0, 7, 3, 555, 0, 4096, buf + 4096));
            Assert.Equal(0xAB, buf[4096]);
        }
        finally
        {
            NativeMemory.AlignedFree(buf);
        }
    }

    [Fact]
    public void Intent_bits_are_durable_before_the_write_and_cleared_on_request()
    {
        byte* buf = Alloc(4096, 0x5A);
        try
        {
            using (DriveStore d = Open())
            {
                Assert.Equal(WireStatus.Ok, d.Fence(1, 7, 1, 1, 100, false, TimeSpan.FromSeconds(1)));
                Assert.Equal(WireStatus.Ok, d.Write(1, 7, 1, 100, (3 << 20) + 100, 4096, buf, false, true));
                Assert.Equal(WireStatus.Ok, d.Write(1, 7, 1, 100, 5 << 20, 4096, buf, false, markIntent: false));
            }
            using (DriveStore d = Open())
            {
                ulong[] bits = d.Segments[1].SnapshotBitmap();
                Assert.Equal(1UL << 3, bits[0]);
                Assert.Equal(1, d.Segments[1].DirtyRegionCount());
                Assert.Equal(WireStatus.StaleEpoch, d.ClearIntent(1, 7, 0, [ulong.MaxValue]));
                Assert.Equal(WireStatus.Ok, d.ClearIntent(1, 7, 1, [1UL << 3]));
            }
            using (DriveStore d = Open())
            {
                Assert.Equal(0, d.Segments[1].DirtyRegionCount());
                Assert.Equal(7UL, d.Segments[1].VolumeId);
                Assert.Equal(1u, d.Segments[1].LegIndex);
            }
        }
        finally
        {
            NativeMemory.AlignedFree(buf);
        }
    }

    [Fact]
    public void Unaligned_io_reads_back_exactly_and_touches_nothing_else()
    {
        using DriveStore d = Open();
        Assert.Equal(WireStatus.Ok, d.Fence(2, 7, 0, 1, 100, false, TimeSpan.FromSeconds(1)));
        byte* ones = Alloc(16384, 0x11);
        byte* odd = Alloc(1000, 0xEE);
        byte* back = Alloc(16384, 0);
        try
        {
            Assert.Equal(WireStatus.Ok, d.Write(2, 7, 1, 100, 0, 16384, ones, false, true));
            Assert.Equal(WireStatus.Ok, d.Write(2, 7, 1, 100, 4000, 1000, odd, false, true));
            Assert.Equal(WireStatus.Ok, d.Read(2, 7, 1, 100, 0, 16384, back));
            for (int i = 0; i < 16384; i++)
            {
                Assert.Equal(i is >= 4000 and < 5000 ? 0xEE : 0x11, back[i]);
            }
            Assert.Equal(WireStatus.Ok, d.Write(2, 7, 1, 100, 4096, 4096, null, false, true));
            Assert.Equal(WireStatus.Ok, d.Read(2, 7, 1, 100, 4090, 20, back));
            Assert.Equal([0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0xEE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], new ReadOnlySpan<byte>(back, 20).ToArray());
        }
        finally
        {
            NativeMemory.AlignedFree(ones);
            NativeMemory.AlignedFree(odd);
            NativeMemory.AlignedFree(back);
        }
    }

    [Fact]
    public void A_fence_waits_for_writes_admitted_under_the_previous_epoch()
    {
        using DriveStore d = Open();
        Assert.Equal(WireStatus.Ok, d.Fence(0, 7, 0, 1, 100, false, TimeSpan.FromSeconds(1)));
        DriveSegment seg = d.Segments[0];
        int generation;
        lock (seg.Gate)
        {
            generation = seg.EnterWrite(); // a write in flight at epoch 1
        }
        WireStatus result = WireStatus.Invalid;
        using var answered = new ManualResetEventSlim();
        var fence = new Thread(() =>
        {
            result = d.Fence(0, 7, 0, 2, 100, false, TimeSpan.FromSeconds(10));
            answered.Set();
        });
        fence.Start();
        // the new epoch is visible at once, yet the fence does not answer while the old write runs
        long deadline = Environment.TickCount64 + 5000;
        while (seg.Epoch != 2 && Environment.TickCount64 < deadline)
        {
            Thread.Yield();
        }
        Assert.Equal(2UL, seg.Epoch);
        Assert.False(answered.Wait(200));
        seg.ExitWrite(generation);
        Assert.True(answered.Wait(5000));
        Assert.Equal(WireStatus.Ok, result);
    }
}
