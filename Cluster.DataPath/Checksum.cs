using System.Numerics;
using System.Runtime.InteropServices;

namespace Shoal.DataPath;

/// <summary>CRC32C (Castagnoli), hardware-accelerated through <see cref="BitOperations.Crc32C(uint, ulong)"/>.</summary>
public static class Checksum
{
    public static uint Crc32C(ReadOnlySpan<byte> data) => Finish(Update(Start, data));

    public const uint Start = 0xFFFFFFFFu;

    public static uint Finish(uint state) => ~state;

    public static uint Update(uint state, ReadOnlySpan<byte> data)
    {
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (ulong w in words)
        {
            state = BitOperations.Crc32C(state, w);
        }
        for (int i = words.Length * 8; i < data.Length; i++)
        {
            state = BitOperations.Crc32C(state, data[i]);
        }
        return state;
    }
}
