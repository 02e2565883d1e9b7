using Shoal.DataPath.Drives;
using Shoal.DataPath.Volume;

namespace Shoal.DataPath.Tests;

/// <summary>
/// Checksums at rest through the volume engine, on a 2-leg mirror of in-process targets: a block that fails its check
/// on one leg is served from the other and repaired; on every leg it is an I/O error, never the bad data; a scrub
/// finds and repairs what reads have not touched.
/// </summary>
public sealed class ChecksumEngineTests
{
    private const int Block = BlockChecksums.BlockBytes;

    private static byte[] Pattern(int length, int seed)
    {
        byte[] b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static DriveStore Drive(InProcessVolume v, int target) => v.Targets[target].Drives[0];

    /// <summary>File offset of a volume offset on a leg (group g is segment g on both targets).</summary>
    private static long FileOffset(InProcessVolume v, int target, long volumeOffset) =>
        Drive(v, target).Superblock.SegmentDataOffset((int)(volumeOffset / InProcessVolume.SegmentBytes)) + (volumeOffset % InProcessVolume.SegmentBytes);

    private static byte[] Leg(InProcessVolume v, int target, long volumeOffset, int length) =>
        EngineIo.ReadFile(Drive(v, target).Path, FileOffset(v, target, volumeOffset), length);

    [Fact]
    public void A_block_that_fails_on_one_leg_is_served_from_the_other_and_repaired_there()
    {
        using var v = new InProcessVolume();
        const long Offset = (1 << 20) + (3 * Block);
        byte[] data = Pattern(16 * Block, 1);
        Assert.Equal(0, EngineIo.Write(v.Engine, Offset, data));
        EngineIo.Flip(Drive(v, 0).Path, FileOffset(v, 0, Offset + (5 * Block) + 17));
        Assert.NotEqual(Leg(v, 0, Offset, data.Length), Leg(v, 1, Offset, data.Length));

        // Reads alternate between the legs: enough of them meet the bad leg.
        for (int i = 0; i < 4; i++)
        {
            (int errno, byte[] got) = EngineIo.Read(v.Engine, Offset, data.Length);
            Assert.Equal(0, errno);
            Assert.Equal(data, got);
        }
        EngineIo.WaitUntil(() => Interlocked.Read(ref v.Engine.Counters.BlocksRepaired) >= 1, "the bad block repaired");
        Assert.Equal(Leg(v, 1, Offset, data.Length), Leg(v, 0, Offset, data.Length));
        Assert.Equal(data, Leg(v, 0, Offset, data.Length));
        Assert.True(Interlocked.Read(ref v.Engine.Counters.CorruptReadsServed) >= 1);
        Assert.Equal(1, Interlocked.Read(ref v.Engine.Counters.BlocksRepaired));
        Assert.True(Interlocked.Read(ref Drive(v, 0).Counters.ChecksumFailures) >= 1);
        Assert.Equal(0, Interlocked.Read(ref Drive(v, 1).Counters.ChecksumFailures));
        Assert.Equal(0, Interlocked.Read(ref v.Engine.Counters.Errors));
    }

    [Fact]
    public void A_block_that_fails_on_every_leg_is_an_io_error_never_the_bad_data()
    {
        using var v = new InProcessVolume();
        const long Offset = 5L << 20; // group 1
        byte[] data = Pattern(4 * Block, 2);
        Assert.Equal(0, EngineIo.Write(v.Engine, Offset, data));
        EngineIo.Flip(Drive(v, 0).Path, FileOffset(v, 0, Offset + Block));
        EngineIo.Flip(Drive(v, 1).Path, FileOffset(v, 1, Offset + Block + 9));

        (int errno, _) = EngineIo.Read(v.Engine, Offset, data.Length);
        Assert.Equal(VolumeEngine.EIO, errno);
        Assert.Equal(0, EngineIo.Read(v.Engine, Offset + (2 * Block), 2 * Block).Errno); // the rest of the range still reads
        EngineIo.WaitUntil(() => Interlocked.Read(ref v.Engine.Counters.UnrepairableBlocks) >= 1, "the loss counted");
        Assert.Equal(VolumeEngine.EIO, EngineIo.Read(v.Engine, Offset + Block, Block).Errno); // and stays an error
        Assert.Equal(0, Interlocked.Read(ref v.Engine.Counters.BlocksRepaired));

        // A scrub finds it again, reports it, and the engine still counts the lost block once.
        Assert.True(v.Engine.StartScrub());
        EngineIo.WaitUntil(() => v.Engine.Scrubbing.State == ScrubState.Done, "the scrub done");
        Assert.Equal(1, v.Engine.Scrubbing.UnrepairableBlocks);
        Assert.Equal(1, Interlocked.Read(ref v.Engine.Counters.UnrepairableBlocks));
    }

    [Fact]
    public void A_scrub_reads_every_leg_and_repairs_what_it_finds()
    {
        using var v = new InProcessVolume();
        byte[] data = Pattern(8 << 20, 3);
        for (int off = 0; off < data.Length; off += 1 << 20)
        {
            Assert.Equal(0, EngineIo.Write(v.Engine, off, data.AsSpan(off, 1 << 20)));
        }
        long[] onT0 = [7 * Block, (3L << 20) + (100 * Block), (6L << 20) + Block];
        long[] onT1 = [(1L << 20) + (9 * Block), (5L << 20) + (200 * Block)];
        foreach (long o in onT0)
        {
            EngineIo.Flip(Drive(v, 0).Path, FileOffset(v, 0, o + 3));
        }
        foreach (long o in onT1)
        {
            EngineIo.Flip(Drive(v, 1).Path, FileOffset(v, 1, o + 3));
        }

        Assert.True(v.Engine.StartScrub());
        EngineIo.WaitUntil(() => v.Engine.Scrubbing.State == ScrubState.Done, "the scrub done");
        ScrubStatus s = v.Engine.Scrubbing;
        Assert.Equal(2 * 2 * (InProcessVolume.SegmentBytes / Block), s.ScannedBlocks);
        Assert.Equal(s.TotalBlocks, s.ScannedBlocks);
        Assert.Equal(5, s.BadBlocks);
        Assert.Equal(5, s.RepairedBlocks);
        Assert.Equal(0, s.UnrepairableBlocks);
        Assert.Equal(1, s.Runs);
        Assert.Equal(Leg(v, 0, 0, data.Length), Leg(v, 1, 0, data.Length));
        Assert.Equal(data, Leg(v, 0, 0, data.Length));

        Assert.True(v.Engine.StartScrub());
        EngineIo.WaitUntil(() => v.Engine.Scrubbing is { State: ScrubState.Done, Runs: 2 }, "the second scrub done");
        Assert.Equal(0, v.Engine.Scrubbing.BadBlocks);
    }
}
