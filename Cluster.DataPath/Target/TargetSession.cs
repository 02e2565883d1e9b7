using System.Runtime.InteropServices;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Memory;
using Shoal.DataPath.Transport;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Target;

/// <summary>
/// One client connection on the target: handshake, then a run-to-completion loop on its own
/// thread over one pre-allocated aligned buffer (header just before a page-aligned payload, so a
/// reply goes out in one gather write and the payload is O_DIRECT-ready). No allocation per request.
/// </summary>
internal sealed unsafe class TargetSession
{
    private const int PayloadOffset = BlockMemory.Alignment;
    private const int HeaderOffset = PayloadOffset - WireHeader.Size;

    private readonly TargetServer _server;
    private readonly FrameSocket _socket;
    private volatile bool _finished;
    private ushort _version;

    public TargetSession(TargetServer server, FrameSocket socket)
    {
        _server = server;
        _socket = socket;
    }

    public bool Finished => _finished;

    public void Close() => _socket.Close();

    public void Run()
    {
        using var memory = new BlockMemory(PayloadOffset + WireHeader.MaxPayloadBytes, 1);
        try
        {
            _socket.SetReceiveTimeout(_server.Options.HandshakeTimeoutMs);
            try
            {
                _version = Handshake.Server(_socket, _server.Key, _server.Options.MaxWireVersion);
            }
            catch (WireException e)
            {
                Interlocked.Increment(ref _server.Counters.HandshakeFailures);
                _server.Log($"handshake from {_socket.Socket.RemoteEndPoint} failed: {e.Message}");
                try
                {
                    // Say why before closing; a peer that sent garbage gets one status frame and nothing else.
                    Handshake.SendFrame(_socket, WireOp.Welcome, e.Status == WireStatus.IoError ? WireStatus.Unauthenticated : e.Status, []);
                }
                catch (WireException)
                {
                    // peer already gone
                }
                return;
            }
            _socket.SetReceiveTimeout(0);
            Serve(memory.Pointer(0));
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // connection gone
        }
        finally
        {
            _finished = true;
            _socket.Dispose();
        }
    }

    private void Serve(byte* buffer)
    {
        Span<byte> headerSpan = new(buffer + HeaderOffset, WireHeader.Size);
        byte* payload = buffer + PayloadOffset;
        TargetCounters counters = _server.Counters;
        while (true)
        {
            if (!_socket.ReceiveExact(headerSpan))
            {
                return;
            }
            WireStatus decoded = WireHeader.TryDecode(headerSpan, out WireHeader request);
            if (decoded != WireStatus.Ok)
            {
                // The length fields cannot be trusted: answer once and drop the connection.
                Interlocked.Increment(ref counters.BadFrames);
                Reply(ref request, decoded, buffer, 0);
                return;
            }
            if (request.PayloadBytes > 0)
            {
                if (!_socket.ReceiveExact(new Span<byte>(payload, (int)request.PayloadBytes)))
                {
                    return;
                }
                if (Checksum.Crc32C(new ReadOnlySpan<byte>(payload, (int)request.PayloadBytes)) != request.PayloadCrc)
                {
                    Interlocked.Increment(ref counters.BadFrames);
                    if (!Reply(ref request, WireStatus.BadChecksum, buffer, 0))
                    {
                        return;
                    }
                    continue;
                }
            }
            int replyPayload = 0;
            WireStatus status = request.IsReply ? WireStatus.Invalid : Dispatch(ref request, payload, ref replyPayload);
            if (status != WireStatus.Ok)
            {
                Interlocked.Increment(ref counters.Rejected);
                replyPayload = 0;
            }
            if (!Reply(ref request, status, buffer, replyPayload))
            {
                return;
            }
        }
    }

    private WireStatus Dispatch(ref WireHeader r, byte* payload, ref int replyPayload)
    {
        TargetCounters counters = _server.Counters;
        switch (r.Op)
        {
            case WireOp.Read:
                {
                    if (r.PayloadBytes != 0 || r.LengthBytes > WireHeader.MaxPayloadBytes)
                    {
                        return WireStatus.Invalid;
                    }
                    DriveStore? drive = _server.Drive(r.DriveIndex);
                    if (drive == null)
                    {
                        return WireStatus.NotFound;
                    }
                    long started = System.Diagnostics.Stopwatch.GetTimestamp();
                    WireStatus status = drive.Read(r.SegmentIndex, r.VolumeId, r.Epoch, r.WriterId, r.OffsetBytes, r.LengthBytes, payload);
                    drive.Counters.Served(write: false, status, started, r.LengthBytes);
                    if (status == WireStatus.Ok)
                    {
                        replyPayload = (int)r.LengthBytes;
                        Interlocked.Increment(ref counters.Reads);
                        Interlocked.Add(ref counters.ReadBytes, r.LengthBytes);
                    }
                    return status;
                }
            case WireOp.Write:
            case WireOp.WriteZeroes:
            case WireOp.Trim:
                {
                    bool data = r.Op == WireOp.Write;
                    if ((data && r.PayloadBytes != r.LengthBytes) || (!data && r.PayloadBytes != 0))
                    {
                        return WireStatus.Invalid;
                    }
                    DriveStore? drive = _server.Drive(r.DriveIndex);
                    if (drive == null)
                    {
                        return WireStatus.NotFound;
                    }
                    long started = System.Diagnostics.Stopwatch.GetTimestamp();
                    WireStatus status = drive.Write(
                        r.SegmentIndex, r.VolumeId, r.Epoch, r.WriterId, r.OffsetBytes, r.LengthBytes,
                        data ? payload : null, (r.Flags & WireFlags.Fua) != 0, (r.Flags & WireFlags.NoIntent) == 0);
                    drive.Counters.Served(write: true, status, started, r.LengthBytes);
                    if (status == WireStatus.Ok)
                    {
                        Interlocked.Increment(ref counters.Writes);
                        Interlocked.Add(ref counters.WriteBytes, r.LengthBytes);
                    }
                    return status;
                }
            case WireOp.Flush:
                {
                    Interlocked.Increment(ref counters.Flushes);
                    WireStatus result = WireStatus.Ok;
                    foreach (DriveStore d in _server.Drives)
                    {
                        WireStatus s = d.Flush();
                        if (s != WireStatus.Ok)
                        {
                            result = s;
                        }
                    }
                    return result;
                }
            case WireOp.Fence:
                return r.PayloadBytes != 0
                    ? WireStatus.Invalid
                    : _server.Fence(r.DriveIndex, r.SegmentIndex, r.VolumeId, r.LegIndex, r.Epoch, r.WriterId, (r.Flags & WireFlags.Force) != 0);
            case WireOp.SegmentInfo:
                {
                    SegmentInfo? info = _server.SegmentInfo(r.DriveIndex, r.SegmentIndex);
                    if (info == null)
                    {
                        return WireStatus.NotFound;
                    }
                    return CopyOut(info.Encode(), payload, ref replyPayload);
                }
            case WireOp.ClearIntent:
                {
                    DriveStore? drive = _server.Drive(r.DriveIndex);
                    if (drive == null)
                    {
                        return WireStatus.NotFound;
                    }
                    if (r.PayloadBytes % 8 != 0)
                    {
                        return WireStatus.Invalid;
                    }
                    ReadOnlySpan<ulong> mask = MemoryMarshal.Cast<byte, ulong>(new ReadOnlySpan<byte>(payload, (int)r.PayloadBytes));
                    return drive.ClearIntent(r.SegmentIndex, r.VolumeId, r.Epoch, mask);
                }
            case WireOp.Describe:
                return CopyOut(_server.Describe(), payload, ref replyPayload);
            case WireOp.Ping:
                return WireStatus.Ok;
            default:
                return WireStatus.Unsupported;
        }
    }

    private static WireStatus CopyOut(byte[] bytes, byte* payload, ref int replyPayload)
    {
        if (bytes.Length > WireHeader.MaxPayloadBytes)
        {
            return WireStatus.Invalid;
        }
        bytes.CopyTo(new Span<byte>(payload, bytes.Length));
        replyPayload = bytes.Length;
        return WireStatus.Ok;
    }

    private bool Reply(ref WireHeader request, WireStatus status, byte* buffer, int payloadBytes)
    {
        byte* payload = buffer + PayloadOffset;
        request.Flags = WireFlags.Reply;
        request.Status = WireVersions.ForSession(status, _version);
        request.PayloadBytes = (uint)payloadBytes;
        request.PayloadCrc = payloadBytes > 0 ? Checksum.Crc32C(new ReadOnlySpan<byte>(payload, payloadBytes)) : 0;
        Span<byte> header = new(buffer + HeaderOffset, WireHeader.Size);
        request.Encode(header);
        return _socket.Send(header, payload, payloadBytes);
    }
}
