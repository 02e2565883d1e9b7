using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Shoal.DataPath.Native;

namespace Shoal.DataPath.Transport;

/// <summary>
/// A connected stream socket used by one dedicated receive thread (the only caller of
/// <see cref="ReceiveExact"/>) and any number of senders.
/// Receives spin briefly (polling for bytes without blocking) and then park in a blocking
/// receive, so a busy connection answers fast and an idle one costs no core. Reads come from a
/// receive buffer (one recv(2) per burst). Sends are one gather syscall under a lock, without
/// allocation, or are batched while the sending receive thread has more input to process;
/// .NET keeps the descriptor non-blocking, so a full send window is waited out with poll(2).
/// </summary>
public sealed unsafe class FrameSocket : IDisposable
{
    /// <summary>A send that cannot make progress for this long means the peer is gone or stuck: the connection is dropped.</summary>
    private const int SendStallTimeoutMicros = 30_000_000;

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly long _spinTicks;
    private readonly object _sendGate = new();

    /// <summary>Receive buffer size: room for dozens of pipelined 4 KiB frames per recv(2).</summary>
    private const int ReceiveBufferBytes = 256 * 1024;

    /// <summary>Reads this large bypass the receive buffer (one copy fewer for big payloads).</summary>
    private const int DirectReceiveBytes = 64 * 1024;

    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferBytes];
    private readonly byte[] _pendingSend = GC.AllocateArray<byte>(PendingSendBytes, pinned: true);
    private int _pendingBytes;
    private int _receiveHead;
    private int _receiveTail;
    private int _closed;

    public FrameSocket(Socket socket, int spinMicros)
    {
        _socket = socket;
        _fd = (int)socket.Handle;
        _spinTicks = spinMicros * Stopwatch.Frequency / 1_000_000;
        if (socket.ProtocolType == ProtocolType.Tcp)
        {
            socket.NoDelay = true;
        }
    }

    public Socket Socket => _socket;

    public bool Closed => Volatile.Read(ref _closed) != 0;

    /// <summary>
    /// Fills <paramref name="buffer"/> completely; false when the peer closed or the socket failed.
    /// Small reads are served from a receive buffer that each recv(2) fills as far as the kernel has
    /// bytes, so a burst of pipelined frames costs one syscall instead of two per frame; reads of
    /// at least <see cref="DirectReceiveBytes"/> go straight to the destination once the buffer is drained.
    /// </summary>
    public bool ReceiveExact(Span<byte> buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int buffered = _receiveTail - _receiveHead;
            if (buffered > 0)
            {
                int n = Math.Min(buffered, buffer.Length - done);
                _receiveBuffer.AsSpan(_receiveHead, n).CopyTo(buffer[done..]);
                _receiveHead += n;
                done += n;
                continue;
            }
            t_moreInput = false;
            FlushDeferred();
            if (_spinTicks > 0)
            {
                SpinForData();
            }
            int need = buffer.Length - done;
            if (need >= DirectReceiveBytes)
            {
                int n = _socket.Receive(buffer[done..], SocketFlags.None, out SocketError error);
                if (n <= 0 || error != SocketError.Success)
                {
                    return false;
                }
                done += n;
            }
            else
            {
                int n = _socket.Receive(_receiveBuffer, SocketFlags.None, out SocketError error);
                if (n <= 0 || error != SocketError.Success)
                {
                    return false;
                }
                _receiveHead = 0;
                _receiveTail = n;
            }
        }
        t_moreInput = _receiveTail > _receiveHead;
        return true;
    }

    private void SpinForData()
    {
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        try
        {
            while (_socket.Available == 0 && Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(20);
            }
        }
        catch (ObjectDisposedException)
        {
            // closed under us: the receive that follows reports it
        }
        catch (SocketException)
        {
            // likewise
        }
    }

    /// <summary>
    /// Sends header and payload; false when the connection is gone. When the calling thread is a
    /// receive thread with more input already buffered (so it will send again, or flush, before it
    /// can block), the frame is appended to this socket's pending batch instead and goes out with
    /// the next send or at <see cref="FlushDeferred"/>: one syscall and one peer wake-up per burst
    /// instead of per frame. Any other caller sends at once, after whatever is pending.
    /// </summary>
    public bool Send(ReadOnlySpan<byte> header, byte* payload, int payloadBytes)
    {
        int frameBytes = header.Length + payloadBytes;
        lock (_sendGate)
        {
            if (Closed)
            {
                return false;
            }
            if (t_moreInput && _pendingBytes + frameBytes <= PendingSendBytes && TryDefer(this))
            {
                header.CopyTo(_pendingSend.AsSpan(_pendingBytes));
                new ReadOnlySpan<byte>(payload, payloadBytes).CopyTo(_pendingSend.AsSpan(_pendingBytes + header.Length));
                _pendingBytes += frameBytes;
                return true;
            }
            fixed (byte* pending = _pendingSend)
            fixed (byte* h = header)
            {
                Libc.IoVec* iov = stackalloc Libc.IoVec[3];
                int count = 0;
                if (_pendingBytes > 0)
                {
                    iov[count++] = new Libc.IoVec { Base = pending, Length = (nuint)_pendingBytes };
                }
                if (header.Length > 0)
                {
                    iov[count++] = new Libc.IoVec { Base = h, Length = (nuint)header.Length };
                }
                if (payloadBytes > 0)
                {
                    iov[count++] = new Libc.IoVec { Base = payload, Length = (nuint)payloadBytes };
                }
                bool sent = WriteAll(iov, count, _pendingBytes + (long)frameBytes);
                _pendingBytes = 0;
                return sent;
            }
        }
    }

    /// <summary>Sends this socket's pending batch, if any. Call under the send gate.</summary>
    private bool FlushPending()
    {
        if (_pendingBytes == 0 || Closed)
        {
            _pendingBytes = 0;
            return !Closed;
        }
        fixed (byte* pending = _pendingSend)
        {
            Libc.IoVec* iov = stackalloc Libc.IoVec[1];
            iov[0] = new Libc.IoVec { Base = pending, Length = (nuint)_pendingBytes };
            bool sent = WriteAll(iov, 1, _pendingBytes);
            _pendingBytes = 0;
            return sent;
        }
    }

    /// <summary>writev until every byte is out; false on a broken connection.</summary>
    private bool WriteAll(Libc.IoVec* iov, int count, long remaining)
    {
        while (remaining > 0)
        {
            nint n = Libc.WriteV(_fd, iov, count);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EINTR)
                {
                    continue;
                }
                // .NET keeps socket descriptors non-blocking: wait until the peer drains its window.
                if (errno == Libc.EAGAIN && WaitWritable())
                {
                    continue;
                }
                return false;
            }
            remaining -= n;
            while (n > 0 && count > 0)
            {
                if ((nuint)n >= iov[0].Length)
                {
                    n -= (nint)iov[0].Length;
                    for (int i = 1; i < count; i++)
                    {
                        iov[i - 1] = iov[i];
                    }
                    count--;
                }
                else
                {
                    iov[0].Base = (byte*)iov[0].Base + n;
                    iov[0].Length -= (nuint)n;
                    n = 0;
                }
            }
        }
        return true;
    }

    /// <summary>Bound on one socket's pending batch.</summary>
    private const int PendingSendBytes = 128 * 1024;

    /// <summary>Bound on sockets one thread may hold batches on; past it, sends go out at once.</summary>
    private const int MaxDeferredSockets = 16;

    [ThreadStatic]
    private static bool t_moreInput;

    [ThreadStatic]
    private static FrameSocket?[]? t_deferred;

    [ThreadStatic]
    private static int t_deferredCount;

    /// <summary>Registers the socket in this thread's flush list; false when the list is full (send at once instead).</summary>
    private static bool TryDefer(FrameSocket socket)
    {
        FrameSocket?[] deferred = t_deferred ??= new FrameSocket?[MaxDeferredSockets];
        for (int i = 0; i < t_deferredCount; i++)
        {
            if (ReferenceEquals(deferred[i], socket))
            {
                return true;
            }
        }
        if (t_deferredCount == MaxDeferredSockets)
        {
            return false;
        }
        deferred[t_deferredCount++] = socket;
        return true;
    }

    /// <summary>
    /// Sends every batch this thread left pending. Receive threads call it (through
    /// <see cref="ReceiveExact"/>) before they can block; code that may wait for I/O to complete
    /// (a full request pool, a locked region) must call it first, or it would wait on its own batch.
    /// </summary>
    public static void FlushDeferred()
    {
        FrameSocket?[]? deferred = t_deferred;
        int count = t_deferredCount;
        t_deferredCount = 0;
        for (int i = 0; i < count; i++)
        {
            FrameSocket s = deferred![i]!;
            deferred[i] = null;
            lock (s._sendGate)
            {
                s.FlushPending();
            }
        }
    }

    private bool WaitWritable()
    {
        try
        {
            return _socket.Poll(SendStallTimeoutMicros, SelectMode.SelectWrite);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public bool Send(ReadOnlySpan<byte> data)
    {
        fixed (byte* p = data)
        {
            return Send(ReadOnlySpan<byte>.Empty, p, data.Length);
        }
    }

    /// <summary>
    /// Bounds blocking receives (0 = no bound) with SO_RCVTIMEO set directly on the descriptor; a
    /// receive that times out fails. Socket.ReceiveTimeout is avoided on purpose: .NET then emulates
    /// the timeout over a non-blocking descriptor, and every receive that has to wait allocates.
    /// </summary>
    public void SetReceiveTimeout(int timeoutMs) => SetTimeout(_fd, Libc.SO_RCVTIMEO, timeoutMs);

    /// <summary>Like <see cref="SetReceiveTimeout"/> for SO_SNDTIMEO, which also bounds a blocking connect(2) on Linux.</summary>
    public static void SetSendTimeout(Socket socket, int timeoutMs) => SetTimeout((int)socket.Handle, Libc.SO_SNDTIMEO, timeoutMs);

    /// <summary>
    /// Makes the kernel give up on a peer that stops acknowledging within <paramref name="timeoutMs"/>: data sent and
    /// not acknowledged (TCP_USER_TIMEOUT), and an idle connection whose keepalive probes go unanswered. Without it a
    /// peer behind a silent drop (a partition, a pulled cable) holds every request in flight for TCP's ~15 min of
    /// retransmissions. The kernel's ACKs do not wait for the application, so a slow but live peer is not cut.
    /// </summary>
    public static void SetDeadPeerTimeout(Socket socket, int timeoutMs)
    {
        int fd = (int)socket.Handle;
        int idleSeconds = Math.Max(1, timeoutMs / 2000);
        SetInt(fd, Libc.SOL_SOCKET, Libc.SO_KEEPALIVE, 1);
        SetInt(fd, Libc.IPPROTO_TCP, Libc.TCP_KEEPIDLE, idleSeconds);
        SetInt(fd, Libc.IPPROTO_TCP, Libc.TCP_KEEPINTVL, 1);
        SetInt(fd, Libc.IPPROTO_TCP, Libc.TCP_USER_TIMEOUT, timeoutMs);
    }

    private static void SetInt(int fd, int level, int option, int value)
    {
        if (Libc.SetSockOpt(fd, level, option, &value, sizeof(int)) != 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }
    }

    private static void SetTimeout(int fd, int option, int timeoutMs)
    {
        long* timeval = stackalloc long[2];
        timeval[0] = timeoutMs / 1000;
        timeval[1] = timeoutMs % 1000 * 1000;
        if (Libc.SetSockOpt(fd, Libc.SOL_SOCKET, option, timeval, 16) != 0)
        {
            throw new SocketException(Marshal.GetLastPInvokeError());
        }
    }

    /// <summary>Shuts the socket down; the receive thread's next receive fails and it exits.</summary>
    public void Close()
    {
        // A batch left by this socket's own thread (say, a last status frame) still goes out first.
        lock (_sendGate)
        {
            if (_pendingBytes > 0 && !Closed)
            {
                FlushPending();
            }
        }
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // already gone
            }
            catch (ObjectDisposedException)
            {
                // already gone
            }
        }
    }

    public void Dispose()
    {
        Close();
        _socket.Dispose();
    }
}
