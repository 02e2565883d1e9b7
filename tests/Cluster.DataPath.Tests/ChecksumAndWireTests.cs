using System.Text;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Tests;

public sealed class ChecksumAndWireTests
{
    [Fact]
    public void Crc32c_matches_the_standard_check_value()
    {
        Assert.Equal(0xE3069283u, Checksum.Crc32C(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Checksum.Crc32C([]));
    }

    [Fact]
    public void Crc32c_incremental_equals_one_shot()
    {
        byte[] data = new byte[4099];
        new Random(7).NextBytes(data);
        uint state = Checksum.Update(Checksum.Start, data.AsSpan(0, 1001));
        state = Checksum.Update(state, data.AsSpan(1001));
        Assert.Equal(Checksum.Crc32C(data), Checksum.Finish(state));
    }

    private static WireHeader Sample() => new()
    {
        Op = WireOp.Write,
        Flags = WireFlags.Fua,
        Status = WireStatus.Ok,
        RequestId = 0x1122334455667788,
        VolumeId = 42,
        Epoch = 7,
        WriterId = 99,
        OffsetBytes = 1 << 20,
        LengthBytes = 4096,
        PayloadBytes = 4096,
        DriveIndex = 1,
        SegmentIndex = 5,
        LegIndex = 2,
        PayloadCrc = 0xDEADBEEF,
    };

    [Fact]
    public void Header_round_trips()
    {
        byte[] bytes = new byte[WireHeader.Size];
        WireHeader h = Sample();
        h.Encode(bytes);
        Assert.Equal(WireStatus.Ok, WireHeader.TryDecode(bytes, out WireHeader back));
        Assert.Equal(h, back);
    }

    [Fact]
    public void Every_flipped_header_bit_is_caught()
    {
        byte[] bytes = new byte[WireHeader.Size];
        Sample().Encode(bytes);
        for (int bit = 0; bit < 76 * 8; bit++)
        {
            byte[] copy = (byte[])bytes.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(WireStatus.Ok, WireHeader.TryDecode(copy, out _));
        }
    }

    [Fact]
    public void Oversized_payload_and_reserved_bits_are_invalid_even_with_a_good_crc()
    {
        WireHeader h = Sample();
        h.PayloadBytes = WireHeader.MaxPayloadBytes + 1;
        byte[] bytes = new byte[WireHeader.Size];
        h.Encode(bytes);
        Assert.Equal(WireStatus.Invalid, WireHeader.TryDecode(bytes, out _));

        Sample().Encode(bytes);
        bytes[68] = 1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(72), Checksum.Crc32C(bytes.AsSpan(0, 72)));
        Assert.Equal(WireStatus.Invalid, WireHeader.TryDecode(bytes, out _));
    }

    [Fact]
    public void Short_or_wrong_magic_is_invalid()
    {
        Assert.Equal(WireStatus.Invalid, WireHeader.TryDecode(new byte[10], out _));
        Assert.Equal(WireStatus.Invalid, WireHeader.TryDecode(new byte[WireHeader.Size], out _));
    }
}
