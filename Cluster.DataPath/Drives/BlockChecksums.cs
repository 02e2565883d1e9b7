using System.Numerics;

namespace Shoal.DataPath.Drives;

/// <summary>
/// The CRC32C a drive keeps per 4 KiB block, seeded with the block's location (segment and block index)
/// so a block copied to the wrong place (a misdirected write) fails its check as surely as a flipped bit.
/// The stored value 0 means "never written": the block must read as all zeros (a fresh drive is
/// zero-filled, and so is its CRC area). A computed CRC of 0 is stored as 1 to keep the two apart.
/// </summary>
public static class BlockChecksums
{
    public const int BlockBytes = 4096;

    /// <summary>The stored value of a block that was never written (all zeros).</summary>
    public const uint NeverWritten = 0;

    public static long TableBytes(long segmentBytes) => ((segmentBytes / BlockBytes * sizeof(uint)) + BlockBytes - 1) / BlockBytes * BlockBytes;

    public static uint Compute(int segment, int block, ReadOnlySpan<byte> data)
    {
        uint state = BitOperations.Crc32C(Checksum.Start, ((ulong)(uint)segment << 32) | (uint)block);
        uint crc = Checksum.Finish(Checksum.Update(state, data[..BlockBytes]));
        return crc == NeverWritten ? 1u : crc;
    }

    public static bool Verify(uint stored, int segment, int block, ReadOnlySpan<byte> data) =>
        stored == NeverWritten ? !data[..BlockBytes].ContainsAnyExcept((byte)0) : Compute(segment, block, data) == stored;
}
