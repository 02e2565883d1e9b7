using System.Net;
using System.Net.Sockets;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Transport;

/// <summary>
/// The client's pipelined connection to one target. Requests are registered in a bounded pending
/// table (id = slot | sequence), sent with one gather write, and completed by the link's dedicated
/// receive thread, which reads read payloads straight into the caller's buffer. When the connection
/// drops, every pending request completes with <see cref="WireStatus.IoError"/> exactly once.
/// </summary>
public sealed unsafe class TargetLink : IDisposable
{
    /// <summary>Bound on requests in flight on one link.</summary>
    public const int MaxPending = 1024;

    private readonly ClusterKey _key;
    private readonly ushort _maxVersion;
    private readonly int _spinMicros;
    private readonly Action<string> _log;
    private readonly object _gate = new();
    private readonly Pending[] _pending = new Pending[MaxPending];
    private readonly int[] _free = new int[MaxPending];
    private int _freeCount;
    private uint _sequence;
    private FrameSocket? _socket;
    private bool _connected;
    private long _disconnects;
    private bool _lastConnectFailed;

    private struct Pending
    {
        public ulong Id;
        public IWireCompletion? Completion;
        public int Tag;
        public byte* Destination;
        public int DestinationBytes;
    }

    /// <param name="maxVersion">highest wire protocol version to ask for (a node pinned to the previous version asks for that)</param>
    public TargetLink(string name, string endpoint, ClusterKey key, int spinMicros, Action<string> log, ushort maxVersion = Handshake.MaxVersion)
    {
        _maxVersion = maxVersion;
        Name = name;
        Endpoint = endpoint;
        _key = key;
        _spinMicros = spinMicros;
        _log = log;
        for (int i = 0; i < MaxPending; i++)
        {
            _free[i] = MaxPending - 1 - i;
        }
        _freeCount = MaxPending;
    }

    public string Name { get; }

    public string Endpoint { get; }

    public bool Connected
    {
        get { lock (_gate) { return _connected; } }
    }

    public long Disconnects => Interlocked.Read(ref _disconnects);

    /// <summary>The wire protocol version of the current (or last) connection; 0 before the first.</summary>
    public ushort Version { get; private set; }

    /// <summary>
    /// How long a target may leave sent requests unacknowledged at the TCP level before the link is dropped and its
    /// requests fail over as a leg failure (the control plane then marks the leg stale and the writes go on).
    /// </summary>
    public const int DeadPeerTimeoutMs = 5000;

    /// <summary>Connects and authenticates; false (logged) when the target cannot be reached or refuses.</summary>
    public bool Connect(int timeoutMs = 3000)
    {
        lock (_gate)
        {
            if (_connected)
            {
                return true;
            }
        }
        IPEndPoint ep = ParseEndpoint(Endpoint);
        var socket = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        var frames = new FrameSocket(socket, _spinMicros);
        try
        {
            // A synchronous connect keeps the descriptor blocking (an async call, or a timeout set through the
            // Socket properties, makes .NET emulate blocking over a non-blocking descriptor, and then every
            // receive that waits allocates). Linux bounds a blocking connect by SO_SNDTIMEO.
            FrameSocket.SetSendTimeout(socket, timeoutMs);
            FrameSocket.SetDeadPeerTimeout(socket, DeadPeerTimeoutMs);
            socket.Connect(ep);
            FrameSocket.SetSendTimeout(socket, 0);
            frames.SetReceiveTimeout(timeoutMs);
            Version = Handshake.Client(frames, _key, maxVersion: _maxVersion);
            frames.SetReceiveTimeout(0);
        }
        catch (Exception e) when (e is SocketException or WireException or ObjectDisposedException)
        {
            // Log the first failure of a run only: a down target is probed every second.
            if (!_lastConnectFailed)
            {
                _log($"link {Name} ({Endpoint}): connect failed: {e.Message} (retrying quietly)");
            }
            _lastConnectFailed = true;
            frames.Dispose();
            return false;
        }
        lock (_gate)
        {
            _socket = frames;
            _connected = true;
        }
        _lastConnectFailed = false;
        var thread = new Thread(() => ReceiveLoop(frames)) { Name = $"shoal-link-{Name}", IsBackground = true };
        thread.Start();
        _log($"link {Name} ({Endpoint}): connected (wire protocol v{Version})");
        return true;
    }

    /// <summary>
    /// Sends a request. Returns false, without calling <paramref name="completion"/>, when the link is
    /// down or the pending table is full; otherwise the completion is called exactly once.
    /// <paramref name="header"/>'s RequestId is filled in here, and its PayloadCrc too unless
    /// <paramref name="payloadCrcKnown"/> says the caller already set it (a mirrored write sends one payload to every leg).
    /// </summary>
    public bool Submit(ref WireHeader header, byte* payload, int payloadBytes, byte* readDestination, int readBytes, IWireCompletion completion, int tag, bool payloadCrcKnown = false)
    {
        FrameSocket socket;
        lock (_gate)
        {
            if (!_connected || _freeCount == 0)
            {
                return false;
            }
            int slot = _free[--_freeCount];
            _sequence++;
            ulong id = ((ulong)_sequence << 16) | (uint)slot;
            _pending[slot] = new Pending { Id = id, Completion = completion, Tag = tag, Destination = readDestination, DestinationBytes = readBytes };
            header.RequestId = id;
            socket = _socket!;
        }
        header.PayloadBytes = (uint)payloadBytes;
        if (!payloadCrcKnown)
        {
            header.PayloadCrc = payloadBytes > 0 ? Checksum.Crc32C(new ReadOnlySpan<byte>(payload, payloadBytes)) : 0;
        }
        Span<byte> encoded = stackalloc byte[WireHeader.Size];
        header.Encode(encoded);
        if (!socket.Send(encoded, payload, payloadBytes))
        {
            // The receive thread sees the closed socket and completes everything pending, this one included.
            socket.Close();
        }
        return true;
    }

    private void ReceiveLoop(FrameSocket socket)
    {
        Span<byte> headerBytes = stackalloc byte[WireHeader.Size];
        try
        {
            while (socket.ReceiveExact(headerBytes))
            {
                if (WireHeader.TryDecode(headerBytes, out WireHeader reply) != WireStatus.Ok || !reply.IsReply)
                {
                    _log($"link {Name}: malformed reply; dropping the connection");
                    break;
                }
                int slot = (int)(reply.RequestId & 0xFFFF);
                Pending p;
                lock (_gate)
                {
                    if (slot >= MaxPending || _pending[slot].Id != reply.RequestId || _pending[slot].Completion == null)
                    {
                        p = default;
                    }
                    else
                    {
                        p = _pending[slot];
                    }
                }
                if (p.Completion == null)
                {
                    _log($"link {Name}: reply to unknown request {reply.RequestId}; dropping the connection");
                    break;
                }
                WireStatus status = reply.Status;
                if (reply.PayloadBytes > 0)
                {
                    if (p.Destination == null || reply.PayloadBytes > (uint)p.DestinationBytes)
                    {
                        _log($"link {Name}: unexpected {reply.PayloadBytes}-byte payload; dropping the connection");
                        break;
                    }
                    var dest = new Span<byte>(p.Destination, (int)reply.PayloadBytes);
                    if (!socket.ReceiveExact(dest))
                    {
                        break;
                    }
                    if (Checksum.Crc32C(dest) != reply.PayloadCrc)
                    {
                        status = WireStatus.BadChecksum;
                    }
                }
                lock (_gate)
                {
                    _pending[slot] = default;
                    _free[_freeCount++] = slot;
                }
                p.Completion.OnWireComplete(p.Tag, status, in reply);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // connection gone
        }
        FailAll(socket);
    }

    private void FailAll(FrameSocket socket)
    {
        var failed = new List<Pending>();
        lock (_gate)
        {
            if (ReferenceEquals(_socket, socket))
            {
                _connected = false;
                _socket = null;
            }
            for (int i = 0; i < MaxPending; i++)
            {
                if (_pending[i].Completion != null)
                {
                    failed.Add(_pending[i]);
                    _pending[i] = default;
                    _free[_freeCount++] = i;
                }
            }
        }
        socket.Dispose();
        Interlocked.Increment(ref _disconnects);
        _log($"link {Name} ({Endpoint}): disconnected, failing {failed.Count} pending requests");
        WireHeader none = default;
        foreach (Pending p in failed)
        {
            p.Completion!.OnWireComplete(p.Tag, WireStatus.IoError, in none);
        }
    }

    /// <summary>Drops the connection (pending requests fail with IoError).</summary>
    public void Disconnect()
    {
        FrameSocket? s;
        lock (_gate)
        {
            s = _socket;
        }
        s?.Close();
    }

    /// <summary>A blocking request/response for the control path (fence, segment info, describe).</summary>
    public WireStatus Call(WireHeader header, byte[]? payload, out byte[] replyPayload, int replyCapacity = 64 * 1024, int timeoutMs = 10_000)
    {
        byte[] reply = replyCapacity > 0 ? GC.AllocateArray<byte>(replyCapacity, pinned: true) : [];
        fixed (byte* p = payload)
        fixed (byte* d = reply)
        {
            WireStatus status = Call(header, p, payload?.Length ?? 0, d, reply.Length, out int replyBytes, timeoutMs);
            replyPayload = replyBytes == 0 ? [] : reply.AsSpan(0, replyBytes).ToArray();
            return status;
        }
    }

    [ThreadStatic]
    private static ControlCall? t_call;

    /// <summary>
    /// A blocking request/response over caller-owned (pinned or native) buffers. Allocation-free after
    /// a thread's first call: the waiter is reused, since a thread has one call in flight at a time.
    /// </summary>
    public WireStatus Call(WireHeader header, byte* payload, int payloadBytes, byte* reply, int replyCapacity, out int replyBytes, int timeoutMs = 10_000)
    {
        ControlCall call = t_call ??= new ControlCall();
        call.Done.Reset();
        replyBytes = 0;
        if (!Submit(ref header, payload, payloadBytes, reply, replyCapacity, call, 0))
        {
            return WireStatus.IoError;
        }
        // The request may sit in this thread's send batch (when it is a receive thread): send it before waiting.
        FrameSocket.FlushDeferred();
        if (!call.Done.Wait(timeoutMs))
        {
            // Not answered in time: break the link so a late reply can never land in the caller's buffer.
            Disconnect();
            call.Done.Wait();
        }
        replyBytes = (int)call.Reply.PayloadBytes;
        return call.Status;
    }

    public static IPEndPoint ParseEndpoint(string endpoint)
    {
        int colon = endpoint.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(endpoint.AsSpan(colon + 1), out int port) || port is <= 0 or > 65535)
        {
            throw new FormatException($"'{endpoint}' is not HOST:PORT");
        }
        string host = endpoint[..colon].Trim('[', ']');
        if (!IPAddress.TryParse(host, out IPAddress? address))
        {
            address = Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new FormatException($"cannot resolve '{host}'");
        }
        return new IPEndPoint(address, port);
    }

    public void Dispose() => Disconnect();

    private sealed class ControlCall : IWireCompletion
    {
        public readonly ManualResetEventSlim Done = new();
        public WireStatus Status;
        public WireHeader Reply;

        public void OnWireComplete(int tag, WireStatus status, in WireHeader reply)
        {
            Status = status;
            Reply = reply;
            Done.Set();
        }
    }
}
