using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Shoal.DataPath.Native;

namespace Shoal.DataPath.Transport;

/// <summary>
/// A connected stream socket used by one dedicated receive thread and any number of senders.
/// Receives spin briefly (polling for bytes without blocking) and then park in a blocking
/// receive, so a busy connection answers fast and an idle one costs no core. Sends are one
/// gather syscall (header + payload) under a lock, without allocation; .NET keeps the descriptor
/// non-blocking, so a full send window is waited out with poll(2).
/// </summary>
public sealed unsafe class FrameSocket : IDisposable
{
    /// <summary>A send that cannot make progress for this long means the peer is gone or stuck: the connection is dropped.</summary>
    private const int SendStallTimeoutMicros = 30_000_000;

    private readonly Socket _socket;
    private readonly int _fd;
    private readonly long _spinTicks;
    private readonly object _sendGate = new();
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

    /// <summary>Fills <paramref name="buffer"/> completely; false when the peer closed or the socket failed.</summary>
    public bool ReceiveExact(Span<byte> buffer)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            if (_spinTicks > 0 && done == 0)
            {
                SpinForData();
            }
            int n = _socket.Receive(buffer[done..], SocketFlags.None, out SocketError error);
            if (n <= 0 || error != SocketError.Success)
            {
                return false;
            }
            done += n;
        }
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

    /// <summary>Sends header and payload as one gather write; false when the connection is gone.</summary>
    public bool Send(ReadOnlySpan<byte> header, byte* payload, int payloadBytes)
    {
        fixed (byte* h = header)
        {
            Libc.IoVec* iov = stackalloc Libc.IoVec[2];
            iov[0].Base = h;
            iov[0].Length = (nuint)header.Length;
            iov[1].Base = payload;
            iov[1].Length = (nuint)payloadBytes;
            int count = payloadBytes > 0 ? 2 : 1;
            long remaining = header.Length + (long)payloadBytes;
            lock (_sendGate)
            {
                if (Closed)
                {
                    return false;
                }
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
                    // advance past what was written (partial writes are rare on blocking sockets)
                    while (n > 0 && count > 0)
                    {
                        if ((nuint)n >= iov[0].Length)
                        {
                            n -= (nint)iov[0].Length;
                            iov[0] = iov[1];
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

    /// <summary>Shuts the socket down; the receive thread's next receive fails and it exits.</summary>
    public void Close()
    {
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
