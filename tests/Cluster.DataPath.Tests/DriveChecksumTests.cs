using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Tests;

/// <summary>Checksums at rest on one drive: every 4 KiB block's CRC is kept, checked on read, and tied to its location.</summary>
public sealed unsafe class DriveChecksumTests : IDisposable
{
    private const int Block = 4096;
    private const ulong Volume = 7;
    private const ulong Epoch = 3;
    private const ulong Writer = 100;
    private static readonly Guid s_cluster = Guid.Parse("11111111-2222-3333-4444-555555555555");
    private readonly TempDir _dir = new();
    private readonly byte* _buffer = (byte*)NativeMemory.AlignedAlloc(1 << 20, 4096);

    public void Dispose()
    {
        NativeMemory.AlignedFree(_buffer);
        _dir.Dispose();
    }

    private DriveStore Open(bool checksums = true) => DriveStore.Open(_dir.File("d.img"), new DriveOpenOptions
    {
        ClusterId = s_cluster,
        CreateBytes = 40 << 20,
        SegmentBytes = 8 << 20,
        RegionBytes = 1 << 20,
        Checksums = checksums,
    }, _ => { });

    private static void Claim(DriveStore d, uint segment = 0) =>
        Assert.Equal(WireStatus.Ok, d.Fence(segment, Volume, 0, Epoch, Writer, false, TimeSpan.FromSeconds(1)));

    private WireStatus Write(DriveStore d, long offset, byte[] data, uint segment = 0)
    {
        data.CopyTo(new Span<byte>(_buffer, data.Length));
        return d.Write(segment, Volume, Epoch, Writer, (ulong)offset, (uint)data.Length, _buffer, fua: true, markIntent: true);
    }

    private (WireStatus Status, byte[] Data) Read(DriveStore d, long offset, int length, uint segment = 0)
    {
        new Span<byte>(_buffer, length).Fill(0xEE);
        WireStatus status = d.Read(segment, Volume, Epoch, Writer, (ulong)offset, (uint)length, _buffer);
        return (status, new Span<byte>(_buffer, length).ToArray());
    }

    private static byte[] Pattern(int length, int seed)
    {
        byte[] b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    /// <summary>Changes bytes of the drive file behind the store's back, as bit rot or a misdirected write would.</summary>
    private static void Poke(DriveStore d, long fileOffset, ReadOnlySpan<byte> bytes)
    {
        using var file = new FileStream(d.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        file.Position = fileOffset;
        file.Write(bytes);
    }

    private static byte[] Peek(DriveStore d, long fileOffset, int length)
    {
        using var file = new FileStream(d.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        file.Position = fileOffset;
        byte[] b = new byte[length];
        file.ReadExactly(b);
        return b;
    }

    private static void Flip(DriveStore d, long fileOffset) => Poke(d, fileOffset, [(byte)(Peek(d, fileOffset, 1)[0] ^ 0x5A)]);

    [Fact]
    public void A_flipped_byte_is_answered_corrupt_never_with_the_data_and_stays_so_after_reopen()
    {
        byte[] data = Pattern(4 * Block, 1);
        long dataOffset;
        using (DriveStore d = Open())
        {
            Assert.True(d.Checksums);
            Assert.Equal(Superblock.FormatVersionChecksums, d.Superblock.FormatVersion);
            Claim(d);
            Assert.Equal(WireStatus.Ok, Write(d, 0, data));
            Assert.Equal(data, Read(d, 0, data.Length).Data);
            dataOffset = d.Superblock.SegmentDataOffset(0);
            Flip(d, dataOffset + Block + 10);
            (WireStatus status, byte[] got) = Read(d, 0, data.Length);
            Assert.Equal(WireStatus.Corrupt, status);
            Assert.Equal(WireStatus.Ok, Read(d, 2 * Block, 2 * Block).Status); // the other blocks still serve
            Assert.True(Interlocked.Read(ref d.Counters.ChecksumFailures) >= 1);
        }
        using (DriveStore again = Open())
        {
            Assert.Equal(WireStatus.Corrupt, Read(again, Block, Block).Status);
            Assert.Equal(WireStatus.Ok, Read(again, 0, Block).Status);
            // rewriting the block heals it
            Assert.Equal(WireStatus.Ok, Write(again, Block, data[Block..(2 * Block)]));
            Assert.Equal(data, Read(again, 0, data.Length).Data);
        }
    }

    [Fact]
    public void A_block_copied_over_another_block_or_segment_is_detected()
    {
        using DriveStore d = Open();
        Claim(d);
        Claim(d, 1);
        byte[] a = Pattern(Block, 2);
        byte[] b = Pattern(Block, 3);
        Assert.Equal(WireStatus.Ok, Write(d, 0, a));
        Assert.Equal(WireStatus.Ok, Write(d, 5 * Block, b));
        Assert.Equal(WireStatus.Ok, Write(d, 0, b, segment: 1));
        long seg0 = d.Superblock.SegmentDataOffset(0);
        long seg1 = d.Superblock.SegmentDataOffset(1);

        Poke(d, seg0 + (5 * Block), a); // a misdirected write: block 0's bytes land on block 5
        Assert.Equal(WireStatus.Corrupt, Read(d, 5 * Block, Block).Status);
        Assert.Equal(WireStatus.Ok, Read(d, 0, Block).Status);

        Poke(d, seg1, Peek(d, seg0 + (5 * Block), Block)); // same block index, another segment
        Poke(d, seg1, b); // ...and back: the right bytes at the right place verify again
        Assert.Equal(WireStatus.Ok, Read(d, 0, Block, segment: 1).Status);
        Poke(d, seg1 + (5 * Block), b); // segment 0 block 5's bytes at segment 1 block 5 (never written there)
        Assert.Equal(WireStatus.Corrupt, Read(d, 5 * Block, Block, segment: 1).Status);
    }

    [Fact]
    public void Never_written_blocks_read_as_zeros_and_a_flip_in_one_is_still_caught()
    {
        using DriveStore d = Open();
        Claim(d);
        (WireStatus status, byte[] data) = Read(d, 1 << 20, 64 << 10);
        Assert.Equal(WireStatus.Ok, status);
        Assert.All(data, x => Assert.Equal(0, x));
        Flip(d, d.Superblock.SegmentDataOffset(0) + (2 << 20) + 7);
        Assert.Equal(WireStatus.Corrupt, Read(d, 2 << 20, Block).Status);
        // zeroes written explicitly verify too
        Assert.Equal(WireStatus.Ok, d.Write(0, Volume, Epoch, Writer, 3 << 20, 3 * Block, null, fua: false, markIntent: true));
        Assert.Equal(WireStatus.Ok, Read(d, 3 << 20, 3 * Block).Status);
    }

    [Fact]
    public void A_format_1_drive_opens_without_checksums_and_still_serves()
    {
        byte[] data = Pattern(2 * Block, 4);
        using (DriveStore plain = Open(checksums: false))
        {
            Assert.False(plain.Checksums);
            Claim(plain);
            Assert.Equal(WireStatus.Ok, Write(plain, 0, data));
        }
        // The layout is the one builds before checksums wrote: version 1, nothing past the created time.
        byte[] super = File.ReadAllBytes(_dir.File("d.img"))[..Superblock.Size];
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(super.AsSpan(8)));
        Assert.Equal(0L, BinaryPrimitives.ReadInt64LittleEndian(super.AsSpan(88)));

        using DriveStore d = Open(checksums: true); // a checksum build opening an old drive
        Assert.False(d.Checksums);
        Assert.Equal(1u, d.Superblock.FormatVersion);
        Assert.Equal(data, Read(d, 0, data.Length).Data);
        Flip(d, d.Superblock.SegmentDataOffset(0) + 3);
        Assert.Equal(WireStatus.Ok, Read(d, 0, Block).Status); // nothing to check it against
        Assert.Equal(WireStatus.Ok, Write(d, 100, Pattern(300, 5)));
    }

    [Fact]
    public void Unaligned_writes_and_reads_keep_the_covering_blocks_crcs_right()
    {
        var seed = Environment.TickCount;
        Console.WriteLine($"seed {seed}");
        var random = new Random(seed);
        byte[] model = new byte[256 << 10];
        using (DriveStore d = Open())
        {
            Claim(d);
            for (int i = 0; i < 200; i++)
            {
                int offset = random.Next(model.Length - 1);
                int length = random.Next(1, Math.Min(model.Length - offset, 20_000) + 1);
                byte[] piece = Pattern(length, random.Next());
                Assert.Equal(WireStatus.Ok, Write(d, offset, piece));
                piece.CopyTo(model, offset);
                int readOffset = random.Next(model.Length - 1);
                int readLength = random.Next(1, Math.Min(model.Length - readOffset, 20_000) + 1);
                (WireStatus status, byte[] got) = Read(d, readOffset, readLength);
                Assert.True(status == WireStatus.Ok, $"seed {seed} step {i}: read {readOffset}+{readLength} answered {status}");
                Assert.True(got.AsSpan().SequenceEqual(model.AsSpan(readOffset, readLength)), $"seed {seed} step {i}: read {readOffset}+{readLength} differs");
            }
        }
        using DriveStore again = Open();
        (WireStatus s, byte[] all) = Read(again, 0, model.Length);
        Assert.Equal(WireStatus.Ok, s);
        Assert.Equal(model, all);

        // A partial write over a block that fails its check is refused: new CRCs would launder the old corruption.
        Flip(again, again.Superblock.SegmentDataOffset(0) + (8 * Block) + 1);
        Assert.Equal(WireStatus.Corrupt, Write(again, (8 * Block) + 100, Pattern(10, 6)));
    }
}
