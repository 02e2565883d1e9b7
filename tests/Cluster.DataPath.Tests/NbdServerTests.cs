using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Shoal.DataPath.Tests;

/// <summary>NBD negotiation and transmission against an in-process mirrored volume, byte by byte.</summary>
public sealed class NbdServerTests : IDisposable
{
    private const uint ErrUnsup = (1u << 31) + 1;
    private const uint ErrInvalid = (1u << 31) + 3;
    private const uint ErrUnknown = (1u << 31) + 6;

    private readonly InProcessVolume _volume = new();

    public void Dispose() => _volume.Dispose();

    private RawNbdClient Connect() => new(_volume.NbdEndPoint);

    private byte[] VolumeHash()
    {
        using RawNbdClient c = Connect();
        c.Go("vol");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (ulong off = 0; off < (ulong)_volume.Layout.SizeBytes; off += 1 << 20)
        {
            c.Request(0, off, off, 1 << 20);
            Assert.Equal(0u, c.Reply().Error);
            sha.AppendData(c.Receive(1 << 20));
        }
        return sha.GetHashAndReset();
    }

    [Fact]
    public void Negotiation_lists_informs_and_refuses_what_it_must()
    {
        using RawNbdClient c = Connect();
        c.Greet();
        Assert.Equal(3, c.HandshakeFlags); // FIXED_NEWSTYLE | NO_ZEROES

        c.Option(3, []);
        (uint _, uint type, byte[] data) = c.OptionReply();
        Assert.Equal(2u, type);
        Assert.Equal("vol", Encoding.UTF8.GetString(data, 4, (int)BinaryPrimitives.ReadUInt32BigEndian(data)));
        Assert.Equal(1u, c.OptionReply().Type);

        c.Option(6, RawNbdClient.InfoRequest("nope"));
        Assert.Equal(ErrUnknown, c.OptionReply().Type);

        c.Option(8, []); // structured replies: optional, not offered
        Assert.Equal(ErrUnsup, c.OptionReply().Type);

        c.Option(6, [0, 0, 0, 50, 1, 2]); // name length beyond the option
        Assert.Equal(ErrInvalid, c.OptionReply().Type);

        c.Option(6, RawNbdClient.InfoRequest("vol", 3));
        (_, type, data) = c.OptionReply();
        Assert.Equal(3u, type);
        Assert.Equal((ulong)_volume.Layout.SizeBytes, BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(2)));
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(10));
        Assert.Equal(1 | 4 | 8 | 32 | 64 | 256, flags); // HAS_FLAGS SEND_FLUSH SEND_FUA SEND_TRIM SEND_WRITE_ZEROES CAN_MULTI_CONN
        (_, type, data) = c.OptionReply();
        Assert.Equal(3u, type);
        Assert.Equal(3, BinaryPrimitives.ReadUInt16BigEndian(data));
        Assert.Equal(1u << 20, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(10)));
        Assert.Equal(1u, c.OptionReply().Type);

        c.Option(2, []);
        Assert.Equal(1u, c.OptionReply().Type);
        Assert.True(c.ClosedByServer());
    }

    [Fact]
    public void Export_name_option_enters_transmission_and_unknown_names_are_dropped()
    {
        using (RawNbdClient c = Connect())
        {
            c.Greet();
            c.Option(1, "vol"u8.ToArray());
            byte[] reply = c.Receive(10);
            Assert.Equal((ulong)_volume.Layout.SizeBytes, BinaryPrimitives.ReadUInt64BigEndian(reply));
            c.Request(3, 1, 0, 0);
            Assert.Equal((0u, 1UL), c.Reply());
        }
        using (RawNbdClient c = Connect())
        {
            c.Greet();
            c.Option(1, "nope"u8.ToArray());
            Assert.True(c.ClosedByServer());
        }
    }

    [Theory]
    [InlineData(0x10u)] // unknown client flag
    [InlineData(0u)]    // not fixed newstyle
    public void Bad_client_flags_end_the_connection(uint flags)
    {
        using RawNbdClient c = Connect();
        c.Greet(flags);
        Assert.True(c.ClosedByServer());
    }

    [Fact]
    public void Garbage_and_oversized_options_end_the_connection_without_touching_data()
    {
        byte[] before = VolumeHash();
        using (RawNbdClient c = Connect())
        {
            c.Greet();
            c.Send(new byte[16]); // no IHAVEOPT magic
            Assert.True(c.ClosedByServer());
        }
        using (RawNbdClient c = Connect())
        {
            c.Greet();
            c.Option(7, new byte[5000]); // beyond the option size limit
            Assert.True(c.ClosedByServer());
        }
        Assert.Equal(before, VolumeHash());
    }

    [Fact]
    public void Reads_writes_zeroes_trim_and_flush_round_trip()
    {
        using RawNbdClient c = Connect();
        (ulong size, _) = c.Go("vol");
        byte[] data = RandomNumberGenerator.GetBytes(12288);
        ulong at = (4 << 20) - 4096; // spans two segment groups
        c.Request(1, 10, at, (uint)data.Length, data, flags: 1);
        Assert.Equal((0u, 10UL), c.Reply());
        c.Request(0, 11, at, (uint)data.Length);
        Assert.Equal((0u, 11UL), c.Reply());
        Assert.Equal(data, c.Receive(data.Length));

        c.Request(6, 12, at + 4096, 4096);
        Assert.Equal((0u, 12UL), c.Reply());
        c.Request(4, 13, at + 8192, 4096);
        Assert.Equal((0u, 13UL), c.Reply());
        c.Request(3, 14, 0, 0);
        Assert.Equal((0u, 14UL), c.Reply());
        c.Request(0, 15, at, 12288);
        Assert.Equal(0u, c.Reply().Error);
        byte[] back = c.Receive(12288);
        Assert.Equal(data[..4096], back[..4096]);
        Assert.All(back[4096..], b => Assert.Equal(0, b));

        // large write-zeroes spanning more than one I/O
        c.Request(6, 16, 0, (uint)size);
        Assert.Equal((0u, 16UL), c.Reply());
        c.Request(0, 17, at, 4096);
        Assert.Equal(0u, c.Reply().Error);
        Assert.All(c.Receive(4096), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Out_of_range_and_malformed_requests_get_the_protocol_error_and_change_nothing()
    {
        byte[] before = VolumeHash();
        using (RawNbdClient c = Connect())
        {
            (ulong size, _) = c.Go("vol");
            c.Request(0, 1, size - 4096, 8192);
            Assert.Equal((22u, 1UL), c.Reply()); // EINVAL
            c.Request(1, 2, size - 4096, 8192, new byte[8192]);
            Assert.Equal((28u, 2UL), c.Reply()); // ENOSPC
            c.Request(1, 3, ulong.MaxValue - 100, 4096, new byte[4096]);
            Assert.Equal((28u, 3UL), c.Reply());
            c.Request(6, 4, size, 4096);
            Assert.Equal((28u, 4UL), c.Reply());
            c.Request(4, 5, size - 1, 2);
            Assert.Equal((22u, 5UL), c.Reply());
            c.Request(0, 6, 0, 0);
            Assert.Equal((22u, 6UL), c.Reply());
            c.Request(0, 7, 0, 2 << 20);
            Assert.Equal((22u, 7UL), c.Reply()); // beyond the maximum block size
            c.Request(1, 8, 0, 4096, new byte[4096], flags: 0x80);
            Assert.Equal((22u, 8UL), c.Reply()); // unknown command flag
            c.Request(99, 9, 0, 0);
            Assert.Equal((22u, 9UL), c.Reply()); // unknown command
            c.Request(3, 10, 0, 0);
            Assert.Equal((0u, 10UL), c.Reply()); // the connection is still good
            c.Send(new byte[28]); // bad request magic
            Assert.True(c.ClosedByServer());
        }
        using (RawNbdClient c = Connect())
        {
            c.Go("vol");
            c.Request(1, 1, 0, 8 << 20); // a write larger than the maximum: the payload cannot be consumed safely
            c.Send(new byte[65536]);
            Assert.True(c.ClosedByServer());
        }
        Assert.Equal(before, VolumeHash());
    }
}
