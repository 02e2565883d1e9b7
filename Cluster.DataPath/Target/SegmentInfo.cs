using System.Buffers.Binary;

namespace Shoal.DataPath.Target;

/// <summary>A segment's owner, fence and write-intent bitmap as a target reports it.</summary>
public sealed record SegmentInfo(ulong VolumeId, ulong Epoch, ulong WriterId, uint LegIndex, int RegionBytes, bool Corrupt, ulong[] Bitmap)
{
    public const int FixedBytes = 40;

    public int DirtyRegions => Bitmap.Sum(w => System.Numerics.BitOperations.PopCount(w));

    public byte[] Encode()
    {
        byte[] b = new byte[FixedBytes + (Bitmap.Length * 8)];
        BinaryPrimitives.WriteUInt64LittleEndian(b, VolumeId);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), Epoch);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(16), WriterId);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(24), LegIndex);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(28), RegionBytes);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(32), Corrupt ? 1 : 0);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(36), Bitmap.Length);
        for (int i = 0; i < Bitmap.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(FixedBytes + (i * 8)), Bitmap[i]);
        }
        return b;
    }

    public static SegmentInfo Decode(ReadOnlySpan<byte> b)
    {
        if (b.Length < FixedBytes)
        {
            throw new FormatException("segment info too short");
        }
        int words = BinaryPrimitives.ReadInt32LittleEndian(b[36..]);
        if (words < 0 || b.Length != FixedBytes + (words * 8))
        {
            throw new FormatException("segment info length mismatch");
        }
        ulong[] bitmap = new ulong[words];
        for (int i = 0; i < words; i++)
        {
            bitmap[i] = BinaryPrimitives.ReadUInt64LittleEndian(b[(FixedBytes + (i * 8))..]);
        }
        return new SegmentInfo(
            BinaryPrimitives.ReadUInt64LittleEndian(b),
            BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[28..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[32..]) != 0,
            bitmap);
    }
}
