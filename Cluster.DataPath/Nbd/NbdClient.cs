using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Shoal.DataPath.Nbd;

/// <summary>
/// An NBD client (fixed newstyle, NBD_OPT_GO, simple replies) that survives its server: many requests in flight,
/// matched by cookie; when the connection drops it keeps every unanswered request, reconnects with backoff and sends
/// them again (reads and writes of whole blocks are idempotent, a flush may be repeated), so a caller only sees an
/// error once a request has waited longer than the I/O timeout. The attach helper serves a volume through it.
/// </summary>
public sealed class NbdClient : IDisposable
{
    /// <summary>Most requests on the wire at once; more wait for a slot (within their own deadline).</summary>
    public const int MaxInflight = 64;

    /// <summary>Largest single request; bigger reads and writes are split (the server may allow less).</summary>
    public const int MaxRequestBytes = 1 << 20;

    private static readonly TimeSpan s_handshakeTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(1);

    private readonly EndPoint _endPoint;
    private readonly string _export;
    private readonly TimeSpan _ioTimeout;
    private readonly Action<string> _log;
    private readonly object _gate = new();
    private readonly object _sendGate = new();
    private readonly Dictionary<ulong, Pending> _pending = [];
    private readonly SemaphoreSlim _slots = new(MaxInflight, MaxInflight);
    private readonly Timer _deadlines;
    private Socket? _socket;
    private ulong _generation;
    private ulong _nextCookie;
    private bool _reconnecting;
    private bool _disposed;

    private NbdClient(EndPoint endPoint, string export, TimeSpan ioTimeout, Action<string> log)
    {
        _endPoint = endPoint;
        _export = export;
        _ioTimeout = ioTimeout;
        _log = log;
        _deadlines = new Timer(_ => ExpireOverdue(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public long SizeBytes { get; private set; }

    public ushort TransmissionFlags { get; private set; }

    public int MaxBlockBytes { get; private set; } = MaxRequestBytes;

    public bool ReadOnly => (TransmissionFlags & NbdProtocol.TxReadOnly) != 0;

    /// <summary>False while the connection is lost and being made again.</summary>
    public bool Connected
    {
        get
        {
            lock (_gate)
            {
                return _socket != null;
            }
        }
    }

    /// <summary>Times the connection was lost and made again.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    private long _reconnects;

    /// <summary>Flushes the server answered.</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    private long _flushes;

    /// <summary>Connects once (an unreachable server or an unknown export is an error here, not a wait).</summary>
    public static NbdClient Connect(string uri, TimeSpan ioTimeout, Action<string> log)
    {
        (EndPoint endPoint, string export) = ParseUri(uri);
        var client = new NbdClient(endPoint, export, ioTimeout, log);
        Socket socket = client.Handshake();
        client._socket = socket;
        client._generation = 1;
        client.StartReceiving(socket, 1);
        client._deadlines.Change(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(200));
        return client;
    }

    /// <summary><c>nbd://HOST:PORT/NAME</c> or <c>nbd+unix:///NAME?socket=PATH</c>.</summary>
    public static (EndPoint EndPoint, string Export) ParseUri(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out Uri? u) || (u.Scheme != "nbd" && u.Scheme != "nbd+unix"))
        {
            throw new ArgumentException($"'{uri}' is not an NBD URI (nbd://HOST:PORT/NAME or nbd+unix:///NAME?socket=PATH)");
        }
        string export = Uri.UnescapeDataString(u.AbsolutePath.TrimStart('/'));
        if (export.Length == 0)
        {
            throw new ArgumentException($"'{uri}' names no export");
        }
        if (u.Scheme == "nbd+unix")
        {
            string? socket = u.Query.TrimStart('?').Split('&').Where(p => p.StartsWith("socket=", StringComparison.Ordinal))
                .Select(p => Uri.UnescapeDataString(p["socket=".Length..])).FirstOrDefault();
            return socket is { Length: > 0 }
                ? (new UnixDomainSocketEndPoint(socket), export)
                : throw new ArgumentException($"'{uri}' has no socket= parameter");
        }
        int port = u.Port > 0 ? u.Port : 10809;
        return IPAddress.TryParse(u.Host.Trim('[', ']'), out IPAddress? address)
            ? (new IPEndPoint(address, port), export)
            : (new DnsEndPoint(u.Host, port), export);
    }

    /// <summary>Reads <paramref name="destination"/>.Length bytes at <paramref name="offsetBytes"/>; 0 or an errno.</summary>
    public int Read(long offsetBytes, Span<byte> destination)
    {
        var parts = new List<(Pending P, int At)>();
        try
        {
            for (int at = 0; at < destination.Length; at += MaxBlockBytes)
            {
                int length = Math.Min(MaxBlockBytes, destination.Length - at);
                parts.Add((Submit(NbdProtocol.CmdRead, offsetBytes + at, length, null), at));
            }
            int errno = 0;
            foreach ((Pending p, int at) in parts)
            {
                int e = p.Wait();
                if (e == 0 && errno == 0)
                {
                    p.Buffer.AsSpan(0, p.Length).CopyTo(destination[at..]);
                }
                errno = errno != 0 ? errno : e;
            }
            return errno;
        }
        finally
        {
            Release(parts);
        }
    }

    /// <summary>Writes <paramref name="source"/> at <paramref name="offsetBytes"/>; 0 or an errno.</summary>
    public int Write(long offsetBytes, ReadOnlySpan<byte> source)
    {
        var parts = new List<(Pending P, int At)>();
        try
        {
            for (int at = 0; at < source.Length; at += MaxBlockBytes)
            {
                int length = Math.Min(MaxBlockBytes, source.Length - at);
                parts.Add((Submit(NbdProtocol.CmdWrite, offsetBytes + at, length, source.Slice(at, length)), at));
            }
            int errno = 0;
            foreach ((Pending p, int _) in parts)
            {
                int e = p.Wait();
                errno = errno != 0 ? errno : e;
            }
            return errno;
        }
        finally
        {
            Release(parts);
        }
    }

    /// <summary>NBD_CMD_FLUSH: every write answered before it is durable when it is answered; 0 or an errno.</summary>
    public int Flush()
    {
        if ((TransmissionFlags & NbdProtocol.TxSendFlush) == 0)
        {
            return 0;
        }
        Pending p = Submit(NbdProtocol.CmdFlush, 0, 0, null);
        try
        {
            int errno = p.Wait();
            if (errno == 0)
            {
                Interlocked.Increment(ref _flushes);
            }
            return errno;
        }
        finally
        {
            Release([(p, 0)]);
        }
    }

    private Pending Submit(ushort command, long offsetBytes, int length, ReadOnlySpan<byte> data)
    {
        long deadline = Environment.TickCount64 + (long)_ioTimeout.TotalMilliseconds;
        var p = new Pending(command, offsetBytes, length, deadline, command is NbdProtocol.CmdRead or NbdProtocol.CmdWrite ? ArrayPool<byte>.Shared.Rent(Math.Max(length, 1)) : []);
        data.CopyTo(p.Buffer);
        if (!_slots.Wait(_ioTimeout))
        {
            p.Complete(NbdProtocol.EIO);
            return p;
        }
        p.HoldsSlot = true;
        Socket? socket;
        ulong generation;
        lock (_gate)
        {
            if (_disposed)
            {
                p.Complete(NbdProtocol.ESHUTDOWN);
                return p;
            }
            p.Cookie = ++_nextCookie;
            _pending.Add(p.Cookie, p);
            socket = _socket;
            generation = _generation;
            if (socket != null)
            {
                p.SentOn = generation;
            }
        }
        if (socket != null)
        {
            Send(socket, generation, [p]);
        }
        return p;
    }

    private void Release(List<(Pending P, int At)> parts)
    {
        foreach ((Pending p, int _) in parts)
        {
            if (p.HoldsSlot)
            {
                p.HoldsSlot = false;
                _slots.Release();
            }
            bool listed;
            lock (_gate)
            {
                listed = _pending.TryGetValue(p.Cookie, out Pending? q) && q == p;
            }
            if (p.Buffer.Length > 0 && !listed)
            {
                // A request that expired is still listed: its late reply may yet be read into its buffer.
                ArrayPool<byte>.Shared.Return(p.Buffer);
            }
        }
    }

    private void Send(Socket socket, ulong generation, IEnumerable<Pending> requests)
    {
        byte[] header = new byte[NbdProtocol.RequestBytes];
        try
        {
            lock (_sendGate)
            {
                foreach (Pending p in requests)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(header, NbdProtocol.RequestMagic);
                    BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 0);
                    BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), p.Command);
                    BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(8), p.Cookie);
                    BinaryPrimitives.WriteUInt64BigEndian(header.AsSpan(16), (ulong)p.OffsetBytes);
                    BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(24), (uint)p.Length);
                    SendAll(socket, header);
                    if (p.Command == NbdProtocol.CmdWrite)
                    {
                        SendAll(socket, p.Buffer.AsSpan(0, p.Length));
                    }
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Lost(socket, generation, "send: " + e.Message);
        }
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            data = data[socket.Send(data)..];
        }
    }

    private void StartReceiving(Socket socket, ulong generation)
    {
        var thread = new Thread(() => Receive(socket, generation)) { Name = "shoal-nbd-client-recv", IsBackground = true };
        thread.Start();
    }

    private void Receive(Socket socket, ulong generation)
    {
        byte[] reply = new byte[NbdProtocol.SimpleReplyBytes];
        try
        {
            while (true)
            {
                ReceiveAll(socket, reply);
                uint magic = BinaryPrimitives.ReadUInt32BigEndian(reply);
                if (magic != NbdProtocol.SimpleReplyMagic)
                {
                    throw new NbdProtocolException($"reply magic 0x{magic:x8} (expected a simple reply)");
                }
                int error = (int)BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(4));
                ulong cookie = BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8));
                Pending? p;
                lock (_gate)
                {
                    _pending.TryGetValue(cookie, out p);
                }
                if (p == null)
                {
                    throw new NbdProtocolException($"reply for unknown cookie {cookie}");
                }
                if (p.Command == NbdProtocol.CmdRead && error == 0)
                {
                    ReceiveAll(socket, p.Buffer.AsSpan(0, p.Length));
                }
                lock (_gate)
                {
                    _pending.Remove(cookie);
                }
                p.Complete(error);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or NbdProtocolException or EndOfStreamException)
        {
            Lost(socket, generation, e.Message);
        }
    }

    private static void ReceiveAll(Socket socket, Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            int n = socket.Receive(buffer);
            if (n == 0)
            {
                throw new EndOfStreamException("the server closed the connection");
            }
            buffer = buffer[n..];
        }
    }

    private void Lost(Socket socket, ulong generation, string why)
    {
        lock (_gate)
        {
            if (_generation != generation || _socket != socket || _disposed)
            {
                return;
            }
            _socket = null;
            socket.Dispose();
            _log($"nbd client: connection to {_endPoint} lost ({why}); {_pending.Count} requests wait, reconnecting (I/O timeout {_ioTimeout.TotalSeconds:0} s)");
            if (_reconnecting)
            {
                return;
            }
            _reconnecting = true;
        }
        var thread = new Thread(Reconnect) { Name = "shoal-nbd-client-reconnect", IsBackground = true };
        thread.Start();
    }

    private void Reconnect()
    {
        TimeSpan backoff = s_firstBackoff;
        int attempts = 0;
        while (true)
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    _reconnecting = false;
                    return;
                }
            }
            Socket socket;
            try
            {
                attempts++;
                socket = Handshake();
            }
            catch (Exception e) when (e is SocketException or IOException or NbdProtocolException)
            {
                if (attempts == 1 || attempts % 20 == 0)
                {
                    _log($"nbd client: reconnect attempt {attempts} to {_endPoint}: {e.Message}");
                }
                Thread.Sleep(backoff);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
                continue;
            }
            List<Pending> replay;
            ulong generation;
            lock (_gate)
            {
                if (_disposed)
                {
                    socket.Dispose();
                    _reconnecting = false;
                    return;
                }
                generation = ++_generation;
                _socket = socket;
                _reconnecting = false;
                // Requests whose caller gave up are dropped; every other unanswered one is sent again, oldest first.
                foreach (ulong cookie in _pending.Where(kv => kv.Value.Completed).Select(kv => kv.Key).ToList())
                {
                    _pending.Remove(cookie);
                }
                replay = [.. _pending.Values.Where(p => p.SentOn != generation).OrderBy(p => p.Cookie)];
                foreach (Pending p in replay)
                {
                    p.SentOn = generation;
                }
            }
            Interlocked.Increment(ref _reconnects);
            _log($"nbd client: reconnected to {_endPoint} after {attempts} attempts; sending {replay.Count} unanswered requests again");
            StartReceiving(socket, generation);
            Send(socket, generation, replay);
            return;
        }
    }

    private Socket Handshake()
    {
        var socket = _endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.ReceiveTimeout = (int)s_handshakeTimeout.TotalMilliseconds;
            socket.SendTimeout = (int)s_handshakeTimeout.TotalMilliseconds;
            socket.Connect(_endPoint);
            byte[] hello = new byte[18];
            ReceiveAll(socket, hello);
            if (BinaryPrimitives.ReadUInt64BigEndian(hello) != NbdProtocol.InitMagic || BinaryPrimitives.ReadUInt64BigEndian(hello.AsSpan(8)) != NbdProtocol.OptMagic)
            {
                throw new NbdProtocolException("not a newstyle NBD server");
            }
            ushort serverFlags = BinaryPrimitives.ReadUInt16BigEndian(hello.AsSpan(16));
            if ((serverFlags & NbdProtocol.FlagFixedNewstyle) == 0)
            {
                throw new NbdProtocolException("the server does not speak fixed newstyle");
            }
            uint clientFlags = NbdProtocol.ClientFlagFixedNewstyle | ((serverFlags & NbdProtocol.FlagNoZeroes) != 0 ? NbdProtocol.ClientFlagNoZeroes : 0u);
            byte[] name = Encoding.UTF8.GetBytes(_export);
            byte[] go = new byte[4 + 16 + 4 + name.Length + 2 + 2];
            BinaryPrimitives.WriteUInt32BigEndian(go, clientFlags);
            BinaryPrimitives.WriteUInt64BigEndian(go.AsSpan(4), NbdProtocol.OptMagic);
            BinaryPrimitives.WriteUInt32BigEndian(go.AsSpan(12), NbdProtocol.OptGo);
            BinaryPrimitives.WriteUInt32BigEndian(go.AsSpan(16), (uint)(4 + name.Length + 2 + 2));
            BinaryPrimitives.WriteUInt32BigEndian(go.AsSpan(20), (uint)name.Length);
            name.CopyTo(go, 24);
            BinaryPrimitives.WriteUInt16BigEndian(go.AsSpan(24 + name.Length), 1);
            BinaryPrimitives.WriteUInt16BigEndian(go.AsSpan(26 + name.Length), NbdProtocol.InfoBlockSize);
            SendAll(socket, go);
            (long size, ushort flags, int maxBlock) = (-1, 0, MaxRequestBytes);
            byte[] head = new byte[20];
            while (true)
            {
                ReceiveAll(socket, head);
                uint type = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(12));
                uint length = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(16));
                if (BinaryPrimitives.ReadUInt64BigEndian(head) != NbdProtocol.OptReplyMagic || length > NbdProtocol.MaxOptionBytes)
                {
                    throw new NbdProtocolException("bad option reply");
                }
                byte[] data = new byte[length];
                ReceiveAll(socket, data);
                if (type == NbdProtocol.RepAck)
                {
                    break;
                }
                if ((type & (1u << 31)) != 0)
                {
                    throw new NbdProtocolException($"export '{_export}' refused: {Encoding.UTF8.GetString(data)} (reply 0x{type:x})");
                }
                if (type == NbdProtocol.RepInfo && data.Length >= 12 && BinaryPrimitives.ReadUInt16BigEndian(data) == NbdProtocol.InfoExport)
                {
                    size = (long)BinaryPrimitives.ReadUInt64BigEndian(data.AsSpan(2));
                    flags = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(10));
                }
                else if (type == NbdProtocol.RepInfo && data.Length >= 14 && BinaryPrimitives.ReadUInt16BigEndian(data) == NbdProtocol.InfoBlockSize)
                {
                    maxBlock = (int)Math.Min(MaxRequestBytes, BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(10)));
                }
            }
            if (size < 0)
            {
                throw new NbdProtocolException("the server sent no export size");
            }
            if (SizeBytes != 0 && size != SizeBytes)
            {
                // The file we present keeps its size; a grown volume is seen at the next attach.
                _log(string.Create(CultureInfo.InvariantCulture, $"nbd client: export size is now {size} bytes (was {SizeBytes}); keeping {SizeBytes}"));
            }
            else
            {
                SizeBytes = size;
            }
            TransmissionFlags = flags;
            MaxBlockBytes = Math.Max(4096, maxBlock);
            socket.ReceiveTimeout = 0;
            socket.SendTimeout = 0;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Answers EIO to every request older than the I/O timeout (its caller stops waiting; a reply later is dropped).</summary>
    private void ExpireOverdue()
    {
        long now = Environment.TickCount64;
        List<Pending> overdue;
        lock (_gate)
        {
            overdue = [.. _pending.Values.Where(p => !p.Completed && p.DeadlineTicks <= now)];
        }
        foreach (Pending p in overdue)
        {
            _log($"nbd client: request {p.Cookie} (command {p.Command}, {p.Length} bytes at {p.OffsetBytes}) unanswered after {_ioTimeout.TotalSeconds:0} s: EIO");
            p.Complete(NbdProtocol.EIO);
        }
    }

    public void Dispose()
    {
        Socket? socket;
        List<Pending> left;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            socket = _socket;
            _socket = null;
            left = [.. _pending.Values];
            _pending.Clear();
        }
        _deadlines.Dispose();
        if (socket != null)
        {
            try
            {
                byte[] disc = new byte[NbdProtocol.RequestBytes];
                BinaryPrimitives.WriteUInt32BigEndian(disc, NbdProtocol.RequestMagic);
                BinaryPrimitives.WriteUInt16BigEndian(disc.AsSpan(6), NbdProtocol.CmdDisc);
                lock (_sendGate)
                {
                    SendAll(socket, disc);
                }
            }
            catch (SocketException)
            {
                // the server is gone already
            }
            socket.Dispose();
        }
        foreach (Pending p in left)
        {
            p.Complete(NbdProtocol.ESHUTDOWN);
        }
    }

    /// <summary>
    /// One request: completed once, by its reply, its deadline or the client's disposal. One that expired stays in
    /// the table until its late reply (or a reconnect) so the reply's bytes are still read off the wire.
    /// </summary>
    private sealed class Pending(ushort command, long offsetBytes, int length, long deadlineTicks, byte[] buffer)
    {
        private readonly ManualResetEventSlim _done = new();
        private int _errno = -1;

        public ushort Command { get; } = command;

        public long OffsetBytes { get; } = offsetBytes;

        public int Length { get; } = length;

        public long DeadlineTicks { get; } = deadlineTicks;

        public byte[] Buffer { get; } = buffer;

        public ulong Cookie { get; set; }

        public ulong SentOn { get; set; }

        public bool HoldsSlot { get; set; }

        public bool Completed => Volatile.Read(ref _errno) >= 0;

        public void Complete(int errno)
        {
            if (Interlocked.CompareExchange(ref _errno, errno, -1) == -1)
            {
                _done.Set();
            }
        }

        public int Wait()
        {
            _done.Wait();
            return _errno;
        }
    }
}
