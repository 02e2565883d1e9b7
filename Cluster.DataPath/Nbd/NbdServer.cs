using System.Net;
using System.Net.Sockets;

namespace Shoal.DataPath.Nbd;

/// <summary>
/// Exports volumes over NBD (fixed newstyle, simple replies) on TCP and/or a Unix socket, so any
/// NBD client works: the kernel's nbd driver, qemu, nbdcopy, fio's nbd engine. One thread per
/// connection reads requests; replies are sent by whichever thread completes the I/O.
/// </summary>
public sealed class NbdServer : IDisposable
{
    /// <summary>Bound on concurrent NBD connections; the next is closed at once.</summary>
    public const int MaxConnections = 64;

    private readonly Dictionary<string, NbdExport> _exports;
    private readonly Action<string> _log;
    private readonly int _spinMicros;
    private readonly List<Socket> _listeners = [];
    private readonly List<NbdSession> _sessions = [];
    private readonly object _gate = new();
    private volatile bool _stopping;

    public NbdServer(IEnumerable<NbdExport> exports, int spinMicros, Action<string> log)
    {
        _exports = exports.ToDictionary(e => e.Name, StringComparer.Ordinal);
        _spinMicros = spinMicros;
        _log = log;
    }

    internal IReadOnlyDictionary<string, NbdExport> Exports => _exports;

    internal Action<string> Log => _log;

    public IPEndPoint? TcpEndPoint { get; private set; }

    public void ListenTcp(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(endpoint);
        socket.Listen(64);
        TcpEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        StartAccepting(socket, "tcp");
    }

    public void ListenUnix(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
        }
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        socket.Listen(64);
        StartAccepting(socket, "unix");
    }

    private void StartAccepting(Socket listener, string kind)
    {
        lock (_gate)
        {
            _listeners.Add(listener);
        }
        var thread = new Thread(() => AcceptLoop(listener)) { Name = $"shoal-nbd-accept-{kind}", IsBackground = true };
        thread.Start();
    }

    private void AcceptLoop(Socket listener)
    {
        int n = 0;
        while (!_stopping)
        {
            Socket socket;
            try
            {
                socket = listener.Accept();
            }
            catch (SocketException)
            {
                if (_stopping)
                {
                    return;
                }
                continue;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            lock (_gate)
            {
                _sessions.RemoveAll(s => s.Finished);
                if (_sessions.Count >= MaxConnections)
                {
                    _log($"nbd: refusing a connection: {MaxConnections} already open");
                    socket.Dispose();
                    continue;
                }
                var session = new NbdSession(this, new Transport.FrameSocket(socket, _spinMicros));
                _sessions.Add(session);
                var thread = new Thread(session.Run) { Name = $"shoal-nbd-conn-{++n}", IsBackground = true };
                thread.Start();
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        lock (_gate)
        {
            foreach (Socket l in _listeners)
            {
                l.Dispose();
            }
            foreach (NbdSession s in _sessions)
            {
                s.Close();
            }
        }
    }
}
