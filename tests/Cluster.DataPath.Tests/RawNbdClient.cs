using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shoal.DataPath.Tests;

/// <summary>A deliberately low-level NBD client: sends exactly the bytes a test asks for.</summary>
internal sealed class RawNbdClient : IDisposable
{
    private readonly Socket _socket;

    public RawNbdClient(IPEndPoint endpoint)
    {
        _socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        _socket.Connect(endpoint);
    }

    public ushort HandshakeFlags { get; private set; }

    public Socket Socket => _socket;

    public void Greet(uint clientFlags = 3)
    {
        byte[] hello = Receive(18);
        Assert.Equal(0x4e42444d41474943UL, BinaryPrimitives.ReadUInt64BigEndian(hello));
        HandshakeFlags = BinaryPrimitives.ReadUInt16BigEndian(hello.AsSpan(16));
        Send(BE32(clientFlags));
    }

    public void Option(uint option, byte[] data)
    {
        byte[] head = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(head, 0x49484156454F5054);
        BinaryPrimitives.WriteUInt32BigEndian(head.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(head.AsSpan(12), (uint)data.Length);
        Send([.. head, .. data]);
    }

    public (uint Option, uint Type, byte[] Data) OptionReply()
    {
        byte[] head = Receive(20);
        Assert.Equal(0x0003e889045565a9UL, BinaryPrimitives.ReadUInt64BigEndian(head));
        uint length = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(16));
        return (BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(8)), BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(12)), Receive((int)length));
    }

    public static byte[] InfoRequest(string name, params ushort[] infos)
    {
        byte[] n = Encoding.UTF8.GetBytes(name);
        byte[] d = new byte[4 + n.Length + 2 + (infos.Length * 2)];
        BinaryPrimitives.WriteUInt32BigEndian(d, (uint)n.Length);
        n.CopyTo(d, 4);
        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(4 + n.Length), (ushort)infos.Length);
        for (int i = 0; i < infos.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(6 + n.Length + (i * 2)), infos[i]);
        }
        return d;
    }

    /// <summary>Negotiates with GO and returns the export size and transmission flags.</summary>
    public (ulong Size, ushort Flags) Go(string name)
    {
        Greet();
        Option(7, InfoRequest(name));
        (uint _, uint type, byte[] data) = OptionReply();
        Assert.Equal(3u, type);
        ulong size = BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(2));
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(10));
        Assert.Equal(1u, OptionReply().Type);
        return (size, flags);
    }

    public void Request(ushort type, ulong cookie, ulong offset, uint length, byte[]? payload = null, ushort flags = 0)
    {
        byte[] r = new byte[28];
        BinaryPrimitives.WriteUInt32BigEndian(r, 0x25609513);
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(4), flags);
        BinaryPrimitives.WriteUInt16BigEndian(r.AsSpan(6), type);
        BinaryPrimitives.WriteUInt64BigEndian(r.AsSpan(8), cookie);
        BinaryPrimitives.WriteUInt64BigEndian(r.AsSpan(16), offset);
        BinaryPrimitives.WriteUInt32BigEndian(r.AsSpan(24), length);
        Send(payload == null ? r : [.. r, .. payload]);
    }

    public (uint Error, ulong Cookie) Reply()
    {
        byte[] r = Receive(16);
        Assert.Equal(0x67446698u, BinaryPrimitives.ReadUInt32BigEndian(r));
        return (BinaryPrimitives.ReadUInt32BigEndian(r.AsSpan(4)), BinaryPrimitives.ReadUInt64BigEndian(r.AsSpan(8)));
    }

    public void Send(byte[] bytes) => _socket.Send(bytes);

    public byte[] Receive(int count)
    {
        byte[] b = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = _socket.Receive(b, done, count - done, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException("server closed the connection");
            }
            done += n;
        }
        return b;
    }

    /// <summary>True when the server closes the connection within the deadline.</summary>
    public bool ClosedByServer(int timeoutMs = 5000)
    {
        _socket.ReceiveTimeout = timeoutMs;
        try
        {
            byte[] b = new byte[1];
            while (true)
            {
                if (_socket.Receive(b) == 0)
                {
                    return true;
                }
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static byte[] BE32(uint v)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(b, v);
        return b;
    }

    public void Dispose() => _socket.Dispose();
}
