using System.Buffers.Binary;

namespace Shoal.DataPath.Drives;

/// <summary>
/// Per-segment metadata, one checksummed 4 KiB block each:
/// <code>
///  0 u32 magic 'SSEG'   4 u32 reserved   8 u64 volumeId (0 = free)   16 u64 epoch
/// 24 u64 writerId     32 u32 legIndex   36 u32 regionCount   64.. write-intent bitmap
/// 4092 u32 CRC32C of bytes 0..4092
/// </code>
/// An all-zero block is a free segment that was never used.
/// </summary>
public static class SegmentMeta
{
    public const int Size = 4096;
    public const uint Magic = 0x47455353; // "SSEG"
    public const int BitmapOffset = 64;
    public const int MaxRegions = (4092 - BitmapOffset) * 8;

    public static void Encode(Span<byte> block, ulong volumeId, ulong epoch, ulong writerId, uint legIndex, ReadOnlySpan<ulong> bitmap, int regionCount)
    {
        block[..Size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(block, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(block[8..], volumeId);
        BinaryPrimitives.WriteUInt64LittleEndian(block[16..], epoch);
        BinaryPrimitives.WriteUInt64LittleEndian(block[24..], writerId);
        BinaryPrimitives.WriteUInt32LittleEndian(block[32..], legIndex);
        BinaryPrimitives.WriteInt32LittleEndian(block[36..], regionCount);
        for (int i = 0; i < bitmap.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(block[(BitmapOffset + (i * 8))..], bitmap[i]);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[4092..], Checksum.Crc32C(block[..4092]));
    }

    /// <summary>False when the block is neither blank nor a valid segment block (torn or corrupt).</summary>
    public static bool TryDecode(ReadOnlySpan<byte> block, out ulong volumeId, out ulong epoch, out ulong writerId, out uint legIndex, Span<ulong> bitmap)
    {
        volumeId = epoch = writerId = 0;
        legIndex = 0;
        bitmap.Clear();
        block = block[..Size];
        if (!block.ContainsAnyExcept((byte)0))
        {
            return true;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(block) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(block[4092..]) != Checksum.Crc32C(block[..4092]))
        {
            return false;
        }
        volumeId = BinaryPrimitives.ReadUInt64LittleEndian(block[8..]);
        epoch = BinaryPrimitives.ReadUInt64LittleEndian(block[16..]);
        writerId = BinaryPrimitives.ReadUInt64LittleEndian(block[24..]);
        legIndex = BinaryPrimitives.ReadUInt32LittleEndian(block[32..]);
        for (int i = 0; i < bitmap.Length; i++)
        {
            bitmap[i] = BinaryPrimitives.ReadUInt64LittleEndian(block[(BitmapOffset + (i * 8))..]);
        }
        return true;
    }
}
