using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using Shoal.DataPath;
using Shoal.DataPath.Transport;
using Shoal.DataPath.Wire;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>Malformed NBD and wire-protocol input against real processes: each is rejected with the right error and no byte changes.</summary>
public sealed class BadInputTests(ITestOutputHelper output)
{
    private const ulong Volume = 5;
    private const ulong Epoch = 3;
    private const ulong Writer = 9;

    [Fact]
    public void Malformed_nbd_from_raw_sockets_is_refused_and_the_volume_is_unchanged()
    {
        using var cluster = StaticCluster.Mirror2("bad-nbd", "128MiB");
        (int code, string text) = Tool.Run("fio", Tool.FioVerify(cluster.NbdUri, "randwrite", "128m", "64k", 8, name: "seed"), TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);
        byte[] before = VolumeHash(cluster);

        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        for (int round = 0; round < 20; round++)
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 5000 };
            socket.Connect("127.0.0.1", cluster.NbdPort);
            Receive(socket, 18);
            byte[] garbage = new byte[random.Next(1, 8192)];
            random.NextBytes(garbage);
            switch (round % 4)
            {
                case 0: // garbage instead of client flags and options
                    break;
                case 1: // good flags, then garbage options
                    garbage = [0, 0, 0, 3, .. garbage];
                    break;
                case 2: // an option claiming 4 GiB of data
                    garbage = [0, 0, 0, 3, .. BitConverter.GetBytes(0x49484156454F5054UL).Reverse(), 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF, .. garbage];
                    break;
                default: // a proper GO, then garbage requests (a write magic with a huge length among them)
                    byte[] name = "vol"u8.ToArray();
                    byte[] go = [.. BitConverter.GetBytes(0x49484156454F5054UL).Reverse(), 0, 0, 0, 7, 0, 0, 0, (byte)(4 + name.Length + 2), 0, 0, 0, (byte)name.Length, .. name, 0, 0];
                    byte[] write = [0x25, 0x60, 0x95, 0x13, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF];
                    garbage = [0, 0, 0, 3, .. go, .. (random.Next(2) == 0 ? write : []), .. garbage];
                    break;
            }
            try
            {
                socket.Send(garbage);
                byte[] sink = new byte[65536];
                while (socket.Receive(sink) > 0)
                {
                }
            }
            catch (SocketException)
            {
                // the server dropping us is the expected outcome
            }
        }
        Assert.False(cluster.Client!.Exited);
        Assert.Equal(before, VolumeHash(cluster));
        (code, text) = Tool.Run("fio", [.. Tool.FioVerify(cluster.NbdUri, "randwrite", "128m", "64k", 8, name: "seed"), "--verify_only"], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);
    }

    private static byte[] VolumeHash(StaticCluster cluster)
    {
        string copy = Path.Combine(cluster.Root, "volume.bin");
        (int code, string text) = Tool.Run("nbdcopy", [cluster.NbdUri, copy], TimeSpan.FromMinutes(2));
        Assert.True(code == 0, text);
        byte[] hash = StaticCluster.FileHash(copy);
        File.Delete(copy);
        return hash;
    }

    private static byte[] Receive(Socket socket, int count)
    {
        byte[] b = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = socket.Receive(b, done, count - done, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }
            done += n;
        }
        return b;
    }

    [Fact]
    public void Malformed_unauthenticated_stale_and_foreign_wire_frames_are_rejected_and_change_nothing()
    {
        using var cluster = new StaticCluster("bad-wire");
        cluster.StartTarget("t1");
        ClusterKey key = ClusterKey.Load(cluster.KeyFile);
        string endpoint = $"127.0.0.1:{cluster.TargetPort("t1")}";

        // A legitimate owner claims segment 0 and writes a known block.
        using (FrameSocket owner = Authenticated(endpoint, key))
        {
            Assert.Equal(WireStatus.Ok, Exchange(owner, Frame(WireOp.Fence, epoch: Epoch), []).Status);
            Assert.Equal(WireStatus.Ok, Exchange(owner, Frame(WireOp.Write, length: 4096), Fill(4096, 0xAA)).Status);
        }
        byte[] before = StaticCluster.FileHash(cluster.DrivePath("t1"));

        // No handshake: the first data frame gets one Unauthenticated status and the connection closes.
        using (FrameSocket raw = Connect(endpoint))
        {
            WireHeader reply = Exchange(raw, Frame(WireOp.Write, length: 4096), Fill(4096, 0x66), expectPayload: false);
            Assert.Equal(WireStatus.Unauthenticated, reply.Status);
            Assert.False(raw.ReceiveExact(new byte[1]));
        }

        // Wrong cluster key, and an unknown protocol version.
        var stranger = new ClusterKey(RandomNumberGenerator.GetBytes(32));
        using (FrameSocket raw = Connect(endpoint))
        {
            WireException e = Assert.Throws<WireException>(() => Handshake.Client(raw, stranger));
            Assert.Equal(WireStatus.Unauthenticated, e.Status);
        }
        using (FrameSocket raw = Connect(endpoint))
        {
            WireException e = Assert.Throws<WireException>(() => Handshake.Client(raw, key, minVersion: Handshake.MaxVersion + 1, maxVersion: Handshake.MaxVersion + 1));
            Assert.Equal(WireStatus.Unsupported, e.Status);
        }

        // Authenticated, but wrong in every other way.
        using (FrameSocket s = Authenticated(endpoint, key))
        {
            byte[] evil = Fill(4096, 0x66);
            Assert.Equal(WireStatus.StaleEpoch, Exchange(s, Frame(WireOp.Write, epoch: Epoch - 1, length: 4096), evil).Status);
            Assert.Equal(WireStatus.EpochAhead, Exchange(s, Frame(WireOp.Write, epoch: Epoch + 1, length: 4096), evil).Status);
            Assert.Equal(WireStatus.Permission, Exchange(s, Frame(WireOp.Write, writer: Writer + 1, length: 4096), evil).Status);
            Assert.Equal(WireStatus.Permission, Exchange(s, Frame(WireOp.Write, volume: Volume + 1, length: 4096), evil).Status);
            Assert.Equal(WireStatus.Invalid, Exchange(s, Frame(WireOp.Write, offset: (64UL << 20) - 2048, length: 4096), evil).Status);
            Assert.Equal(WireStatus.NotFound, Exchange(s, Frame(WireOp.Write, drive: 7, length: 4096), evil).Status);
            Assert.Equal(WireStatus.NotFound, Exchange(s, Frame(WireOp.Write, segment: 100_000, length: 4096), evil).Status);
            Assert.Equal(WireStatus.Invalid, Exchange(s, Frame(WireOp.Write, length: 8192), evil).Status); // payload shorter than the length
            Assert.Equal(WireStatus.StaleEpoch, Exchange(s, Frame(WireOp.Fence, epoch: Epoch - 1), []).Status);
            Assert.Equal(WireStatus.Permission, Exchange(s, Frame(WireOp.Fence, volume: Volume + 1, epoch: Epoch + 5), []).Status);
            Assert.Equal(WireStatus.Unsupported, Exchange(s, Frame((WireOp)99), []).Status);
            WireHeader corrupt = Exchange(s, Frame(WireOp.Write, length: 4096), evil, corruptPayload: true);
            Assert.Equal(WireStatus.BadChecksum, corrupt.Status);
            Assert.Equal(WireStatus.Ok, Exchange(s, Frame(WireOp.Ping), []).Status); // still usable after a bad payload

            // A header that fails its checksum: one reply, then the connection is dropped.
            byte[] header = new byte[WireHeader.Size];
            WireHeader h = Frame(WireOp.Write, length: 4096);
            h.PayloadCrc = Checksum.Crc32C(evil);
            h.PayloadBytes = 4096;
            h.Encode(header);
            header[20] ^= 0x40;
            Assert.True(s.Send([.. header, .. evil]));
            byte[] replyBytes = new byte[WireHeader.Size];
            Assert.True(s.ReceiveExact(replyBytes));
            Assert.Equal(WireStatus.Ok, WireHeader.TryDecode(replyBytes, out WireHeader r));
            Assert.Equal(WireStatus.BadChecksum, r.Status);
            Assert.False(s.ReceiveExact(new byte[1]));
        }

        Assert.Equal(before, StaticCluster.FileHash(cluster.DrivePath("t1")));
        using (FrameSocket owner = Authenticated(endpoint, key))
        {
            byte[] back = new byte[4096];
            WireHeader read = Exchange(owner, Frame(WireOp.Read, length: 4096), [], receive: back);
            Assert.Equal(WireStatus.Ok, read.Status);
            Assert.All(back, b => Assert.Equal(0xAA, b));
        }
    }

    private static byte[] Fill(int n, byte value)
    {
        byte[] b = new byte[n];
        Array.Fill(b, value);
        return b;
    }

    private static WireHeader Frame(WireOp op, ulong volume = Volume, ulong epoch = Epoch, ulong writer = Writer, ulong offset = 0, uint length = 0, uint drive = 0, uint segment = 0) => new()
    {
        Op = op,
        VolumeId = volume,
        Epoch = epoch,
        WriterId = writer,
        OffsetBytes = offset,
        LengthBytes = length,
        DriveIndex = drive,
        SegmentIndex = segment,
    };

    private static FrameSocket Connect(string endpoint)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        socket.Connect(TargetLink.ParseEndpoint(endpoint));
        return new FrameSocket(socket, 0);
    }

    private static FrameSocket Authenticated(string endpoint, ClusterKey key)
    {
        FrameSocket s = Connect(endpoint);
        Handshake.Client(s, key);
        return s;
    }

    private static WireHeader Exchange(FrameSocket s, WireHeader header, byte[] payload, bool corruptPayload = false, bool expectPayload = true, byte[]? receive = null)
    {
        header.PayloadBytes = (uint)payload.Length;
        header.PayloadCrc = Checksum.Crc32C(payload);
        byte[] frame = new byte[WireHeader.Size + payload.Length];
        header.Encode(frame);
        payload.CopyTo(frame, WireHeader.Size);
        if (corruptPayload)
        {
            frame[WireHeader.Size + 7] ^= 1;
        }
        Assert.True(s.Send(frame));
        byte[] replyBytes = new byte[WireHeader.Size];
        Assert.True(s.ReceiveExact(replyBytes), "target closed the connection");
        Assert.Equal(WireStatus.Ok, WireHeader.TryDecode(replyBytes, out WireHeader reply));
        if (reply.PayloadBytes > 0 && expectPayload)
        {
            byte[] data = receive ?? new byte[reply.PayloadBytes];
            Assert.True(s.ReceiveExact(data.AsSpan(0, (int)reply.PayloadBytes)));
            Assert.Equal(reply.PayloadCrc, Checksum.Crc32C(data.AsSpan(0, (int)reply.PayloadBytes)));
        }
        return reply;
    }
}
