using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Shoal.DataPath.Transport;
using Shoal.DataPath.Volume;

namespace Shoal.DataPath.Nbd;

/// <summary>
/// One NBD connection: option negotiation, then the transmission loop. Every malformed or
/// out-of-range request gets the protocol's error or a clean disconnect; nothing outside the
/// export is ever touched and nothing is written to a read-only export.
/// </summary>
internal sealed unsafe class NbdSession : IIoCompletion
{
    private const int NegotiationTimeoutMs = 30_000;

    private readonly NbdServer _server;
    private readonly FrameSocket _socket;
    private volatile NbdExport? _export;
    private int _inflight;
    private volatile bool _finished;
    private bool _noZeroes;

    public NbdSession(NbdServer server, FrameSocket socket)
    {
        _server = server;
        _socket = socket;
    }

    public bool Finished => _finished;

    /// <summary>The export this session negotiated (null during negotiation).</summary>
    public NbdExport? Export => _export;

    public void Close() => _socket.Close();

    public void Run()
    {
        try
        {
            _socket.SetReceiveTimeout(NegotiationTimeoutMs);
            if (Negotiate())
            {
                _socket.SetReceiveTimeout(0);
                Transmit();
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
        {
            // client went away
        }
        catch (NbdProtocolException e)
        {
            _server.Log($"nbd: closing a connection: {e.Message}");
        }
        catch (Exception e)
        {
            // A fault in one connection must not take down the process that serves every other export.
            _server.Log($"nbd: closing a connection after an internal error: {e}");
        }
        finally
        {
            _socket.Close();
            // Completions still in flight write to this socket: wait for them before its descriptor can be reused.
            long deadline = Environment.TickCount64 + 120_000;
            while (Volatile.Read(ref _inflight) > 0 && Environment.TickCount64 < deadline)
            {
                Thread.Sleep(1);
            }
            if (Volatile.Read(ref _inflight) == 0)
            {
                _socket.Dispose();
            }
            _finished = true;
        }
    }

    // ---- negotiation (allocations are fine here: once per connection) ----

    private bool Negotiate()
    {
        byte[] hello = new byte[18];
        BinaryPrimitives.WriteUInt64BigEndian(hello, NbdProtocol.InitMagic);
        BinaryPrimitives.WriteUInt64BigEndian(hello.AsSpan(8), NbdProtocol.OptMagic);
        BinaryPrimitives.WriteUInt16BigEndian(hello.AsSpan(16), NbdProtocol.FlagFixedNewstyle | NbdProtocol.FlagNoZeroes);
        SendAll(hello);

        uint clientFlags = BinaryPrimitives.ReadUInt32BigEndian(ReceiveBytes(4));
        if ((clientFlags & ~(NbdProtocol.ClientFlagFixedNewstyle | NbdProtocol.ClientFlagNoZeroes)) != 0)
        {
            throw new NbdProtocolException($"unknown client flags 0x{clientFlags:x}");
        }
        if ((clientFlags & NbdProtocol.ClientFlagFixedNewstyle) == 0)
        {
            throw new NbdProtocolException("client does not speak fixed newstyle");
        }
        _noZeroes = (clientFlags & NbdProtocol.ClientFlagNoZeroes) != 0;

        while (true)
        {
            byte[] head = ReceiveBytes(16);
            if (BinaryPrimitives.ReadUInt64BigEndian(head) != NbdProtocol.OptMagic)
            {
                throw new NbdProtocolException("bad option magic");
            }
            uint option = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(8));
            uint length = BinaryPrimitives.ReadUInt32BigEndian(head.AsSpan(12));
            if (length > NbdProtocol.MaxOptionBytes)
            {
                throw new NbdProtocolException($"option {option} with {length} bytes of data (limit {NbdProtocol.MaxOptionBytes})");
            }
            byte[] data = ReceiveBytes((int)length);
            switch (option)
            {
                case NbdProtocol.OptExportName:
                    {
                        string name = Encoding.UTF8.GetString(data);
                        if (!_server.Exports.TryGetValue(name, out NbdExport? export))
                        {
                            throw new NbdProtocolException($"unknown export '{name}' (EXPORT_NAME)");
                        }
                        _export = export;
                        byte[] reply = new byte[_noZeroes ? 10 : 134];
                        BinaryPrimitives.WriteUInt64BigEndian(reply, (ulong)export.Engine.SizeBytes);
                        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(8), TransmissionFlags(export));
                        SendAll(reply);
                        return true;
                    }
                case NbdProtocol.OptAbort:
                    OptionReply(option, NbdProtocol.RepAck, []);
                    return false;
                case NbdProtocol.OptList:
                    if (length != 0)
                    {
                        OptionError(option, NbdProtocol.RepErrInvalid, "LIST takes no data");
                        break;
                    }
                    foreach (string name in _server.Exports.Keys)
                    {
                        byte[] n = Encoding.UTF8.GetBytes(name);
                        byte[] item = new byte[4 + n.Length];
                        BinaryPrimitives.WriteUInt32BigEndian(item, (uint)n.Length);
                        n.CopyTo(item, 4);
                        OptionReply(option, NbdProtocol.RepServer, item);
                    }
                    OptionReply(option, NbdProtocol.RepAck, []);
                    break;
                case NbdProtocol.OptInfo:
                case NbdProtocol.OptGo:
                    if (InfoOrGo(option, data) && option == NbdProtocol.OptGo)
                    {
                        return true;
                    }
                    break;
                case NbdProtocol.OptStartTls:
                    OptionError(option, NbdProtocol.RepErrPolicy, "TLS is not offered on this export");
                    break;
                default:
                    OptionError(option, NbdProtocol.RepErrUnsup, $"option {option} is not supported");
                    break;
            }
        }
    }

    private bool InfoOrGo(uint option, byte[] data)
    {
        if (data.Length < 6)
        {
            OptionError(option, NbdProtocol.RepErrInvalid, "INFO/GO data too short");
            return false;
        }
        uint nameLength = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (nameLength > data.Length - 6)
        {
            OptionError(option, NbdProtocol.RepErrInvalid, "INFO/GO name length exceeds the option");
            return false;
        }
        string name = Encoding.UTF8.GetString(data, 4, (int)nameLength);
        int at = 4 + (int)nameLength;
        ushort requests = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at));
        if (data.Length != at + 2 + (requests * 2))
        {
            OptionError(option, NbdProtocol.RepErrInvalid, "INFO/GO request count does not match the option length");
            return false;
        }
        if (!_server.Exports.TryGetValue(name, out NbdExport? export))
        {
            OptionError(option, NbdProtocol.RepErrUnknown, $"unknown export '{name}'");
            return false;
        }
        bool wantBlockSize = false, wantName = false, wantDescription = false;
        for (int i = 0; i < requests; i++)
        {
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(data.AsSpan(at + 2 + (i * 2)));
            wantBlockSize |= type == NbdProtocol.InfoBlockSize;
            wantName |= type == NbdProtocol.InfoName;
            wantDescription |= type == NbdProtocol.InfoDescription;
        }
        byte[] info = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(info, NbdProtocol.InfoExport);
        BinaryPrimitives.WriteUInt64BigEndian(info.AsSpan(2), (ulong)export.Engine.SizeBytes);
        BinaryPrimitives.WriteUInt16BigEndian(info.AsSpan(10), TransmissionFlags(export));
        OptionReply(option, NbdProtocol.RepInfo, info);
        if (wantBlockSize)
        {
            byte[] sizes = new byte[14];
            BinaryPrimitives.WriteUInt16BigEndian(sizes, NbdProtocol.InfoBlockSize);
            BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(2), 1);
            BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(6), 4096);
            BinaryPrimitives.WriteUInt32BigEndian(sizes.AsSpan(10), (uint)export.Engine.MaxIoBytes);
            OptionReply(option, NbdProtocol.RepInfo, sizes);
        }
        if (wantName)
        {
            OptionReply(option, NbdProtocol.RepInfo, [0, (byte)NbdProtocol.InfoName, .. Encoding.UTF8.GetBytes(export.Name)]);
        }
        if (wantDescription && export.Description.Length > 0)
        {
            OptionReply(option, NbdProtocol.RepInfo, [0, (byte)NbdProtocol.InfoDescription, .. Encoding.UTF8.GetBytes(export.Description)]);
        }
        OptionReply(option, NbdProtocol.RepAck, []);
        if (option == NbdProtocol.OptGo)
        {
            _export = export;
        }
        return true;
    }

    internal static ushort TransmissionFlags(NbdExport export)
    {
        ushort flags = NbdProtocol.TxHasFlags | NbdProtocol.TxSendFlush | NbdProtocol.TxSendFua | NbdProtocol.TxCanMultiConn;
        if (export.ReadOnly)
        {
            flags |= NbdProtocol.TxReadOnly;
        }
        else
        {
            flags |= NbdProtocol.TxSendTrim | NbdProtocol.TxSendWriteZeroes;
        }
        return flags;
    }

    private void OptionReply(uint option, uint type, byte[] data)
    {
        byte[] reply = new byte[20 + data.Length];
        BinaryPrimitives.WriteUInt64BigEndian(reply, NbdProtocol.OptReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(8), option);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(12), type);
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(16), (uint)data.Length);
        data.CopyTo(reply, 20);
        SendAll(reply);
    }

    private void OptionError(uint option, uint type, string message) => OptionReply(option, type, Encoding.UTF8.GetBytes(message));

    private byte[] ReceiveBytes(int count)
    {
        byte[] bytes = new byte[count];
        if (!_socket.ReceiveExact(bytes))
        {
            throw new IOException("client closed during negotiation");
        }
        return bytes;
    }

    private void SendAll(byte[] bytes)
    {
        if (!_socket.Send(bytes))
        {
            throw new IOException("client closed during negotiation");
        }
    }

    // ---- transmission (no allocation per request) ----

    private void Transmit()
    {
        NbdExport export = _export!;
        VolumeEngine engine = export.Engine;
        long size = engine.SizeBytes;
        Span<byte> request = stackalloc byte[NbdProtocol.RequestBytes];
        while (true)
        {
            if (!_socket.ReceiveExact(request))
            {
                return;
            }
            if (BinaryPrimitives.ReadUInt32BigEndian(request) != NbdProtocol.RequestMagic)
            {
                throw new NbdProtocolException("bad request magic");
            }
            ushort flags = BinaryPrimitives.ReadUInt16BigEndian(request[4..]);
            ushort type = BinaryPrimitives.ReadUInt16BigEndian(request[6..]);
            ulong cookie = BinaryPrimitives.ReadUInt64BigEndian(request[8..]);
            ulong offset = BinaryPrimitives.ReadUInt64BigEndian(request[16..]);
            uint length = BinaryPrimitives.ReadUInt32BigEndian(request[24..]);
            bool inRange = offset <= (ulong)size && length <= (ulong)size - offset;
            bool knownFlags = (flags & ~(NbdProtocol.CmdFlagFua | NbdProtocol.CmdFlagNoHole)) == 0;

            switch (type)
            {
                case NbdProtocol.CmdDisc:
                    // Serve every outstanding request before the connection closes.
                    FrameSocket.FlushDeferred();
                    var spin = default(SpinWait);
                    while (Volatile.Read(ref _inflight) > 0)
                    {
                        spin.SpinOnce(sleep1Threshold: 20);
                    }
                    return;
                case NbdProtocol.CmdRead:
                    if (!knownFlags || length == 0 || length > engine.MaxIoBytes || !inRange)
                    {
                        SendError(cookie, NbdProtocol.EINVAL);
                        break;
                    }
                    Start(engine, IoKind.Read, cookie, offset, length, fua: false);
                    break;
                case NbdProtocol.CmdWrite:
                    {
                        if (length > engine.MaxIoBytes)
                        {
                            // Too large to stage: the payload cannot be consumed safely, so end the connection.
                            throw new NbdProtocolException($"write of {length} bytes exceeds the maximum block size {engine.MaxIoBytes}");
                        }
                        int errno = !knownFlags ? NbdProtocol.EINVAL
                            : export.ReadOnly ? NbdProtocol.EPERM
                            : length == 0 ? NbdProtocol.EINVAL
                            : !inRange ? NbdProtocol.ENOSPC : 0;
                        IoRequest io = engine.Rent();
                        if (!_socket.ReceiveExact(new Span<byte>(io.Buffer, (int)length)))
                        {
                            engine.Return(io);
                            return;
                        }
                        if (errno != 0)
                        {
                            engine.Return(io);
                            SendError(cookie, errno);
                            break;
                        }
                        Submit(engine, io, IoKind.Write, cookie, offset, length, (flags & NbdProtocol.CmdFlagFua) != 0);
                        break;
                    }
                case NbdProtocol.CmdFlush:
                    Start(engine, IoKind.Flush, cookie, 0, 0, fua: false);
                    break;
                case NbdProtocol.CmdTrim:
                case NbdProtocol.CmdWriteZeroes:
                    {
                        bool zeroes = type == NbdProtocol.CmdWriteZeroes;
                        int errno = !knownFlags ? NbdProtocol.EINVAL
                            : export.ReadOnly ? NbdProtocol.EPERM
                            : length == 0 ? NbdProtocol.EINVAL
                            : !inRange ? (zeroes ? NbdProtocol.ENOSPC : NbdProtocol.EINVAL) : 0;
                        if (errno != 0)
                        {
                            SendError(cookie, errno);
                            break;
                        }
                        if (length <= engine.MaxIoBytes)
                        {
                            Start(engine, zeroes ? IoKind.WriteZeroes : IoKind.Trim, cookie, offset, length, (flags & NbdProtocol.CmdFlagFua) != 0);
                        }
                        else
                        {
                            ZeroLargeRange(engine, zeroes ? IoKind.WriteZeroes : IoKind.Trim, cookie, offset, length, (flags & NbdProtocol.CmdFlagFua) != 0);
                        }
                        break;
                    }
                default:
                    SendError(cookie, NbdProtocol.EINVAL);
                    break;
            }
        }
    }

    private void Start(VolumeEngine engine, IoKind kind, ulong cookie, ulong offset, uint length, bool fua) =>
        Submit(engine, engine.Rent(), kind, cookie, offset, length, fua);

    private void Submit(VolumeEngine engine, IoRequest io, IoKind kind, ulong cookie, ulong offset, uint length, bool fua)
    {
        io.Kind = kind;
        io.Cookie = cookie;
        io.OffsetBytes = (long)offset;
        io.LengthBytes = (int)length;
        io.Fua = fua;
        io.Owner = this;
        Interlocked.Increment(ref _inflight);
        engine.Submit(io);
    }

    /// <summary>Trim / write-zeroes beyond one I/O: done piece by piece on this thread, one reply at the end.</summary>
    private void ZeroLargeRange(VolumeEngine engine, IoKind kind, ulong cookie, ulong offset, uint length, bool fua)
    {
        var waiter = new PieceWaiter(engine);
        int errno = 0;
        for (ulong done = 0; done < length && errno == 0; done += (ulong)engine.MaxIoBytes)
        {
            IoRequest io = engine.Rent();
            io.Kind = kind;
            io.OffsetBytes = (long)(offset + done);
            io.LengthBytes = (int)Math.Min((ulong)engine.MaxIoBytes, length - done);
            io.Fua = fua;
            io.Owner = waiter;
            waiter.Done.Reset();
            engine.Submit(io);
            FrameSocket.FlushDeferred();
            waiter.Done.Wait();
            errno = waiter.Errno;
        }
        if (errno != 0)
        {
            SendError(cookie, errno);
        }
        else
        {
            SendReply(cookie, 0, null, 0);
        }
    }

    public void OnIoComplete(IoRequest io, int errno)
    {
        int nbdErrno = ToNbdErrno(errno);
        SendReply(io.Cookie, nbdErrno, io.Buffer, io.Kind == IoKind.Read && nbdErrno == 0 ? io.LengthBytes : 0);
        _export!.Engine.Return(io);
        Interlocked.Decrement(ref _inflight);
    }

    /// <summary>The NBD error for an engine result: EPERM when fenced out, EIO for every other failure.</summary>
    private static int ToNbdErrno(int engineErrno) => engineErrno switch
    {
        0 => 0,
        VolumeEngine.EPERM => NbdProtocol.EPERM,
        _ => NbdProtocol.EIO,
    };

    private void SendError(ulong cookie, int errno) => SendReply(cookie, errno, null, 0);

    private void SendReply(ulong cookie, int errno, byte* payload, int payloadBytes)
    {
        Span<byte> reply = stackalloc byte[NbdProtocol.SimpleReplyBytes];
        BinaryPrimitives.WriteUInt32BigEndian(reply, NbdProtocol.SimpleReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(reply[4..], (uint)errno);
        BinaryPrimitives.WriteUInt64BigEndian(reply[8..], cookie);
        _socket.Send(reply, payload, payloadBytes);
    }

    private sealed class PieceWaiter(VolumeEngine engine) : IIoCompletion
    {
        public readonly ManualResetEventSlim Done = new();
        public int Errno;

        public void OnIoComplete(IoRequest io, int errno)
        {
            Errno = ToNbdErrno(errno);
            engine.Return(io);
            Done.Set();
        }
    }
}

/// <summary>A protocol violation that ends the NBD connection.</summary>
internal sealed class NbdProtocolException(string message) : Exception(message);
