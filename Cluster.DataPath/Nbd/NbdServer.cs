using System.Collections.Concurrent;
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

    private readonly ConcurrentDictionary<string, NbdExport> _exports;
    private readonly Action<string> _log;
    private readonly int _spinMicros;
    private readonly List<Socket> _listeners = [];
    private readonly List<NbdSession> _sessions = [];
    private readonly object _gate = new();
    private volatile bool _stopping;

    public NbdServer(IEnumerable<NbdExport> exports, int spinMicros, Action<string> log)
    {
        _exports = new ConcurrentDictionary<string, NbdExport>(exports.Select(e => KeyValuePair.Create(e.Name, e)), StringComparer.Ordinal);
        _spinMicros = spinMicros;
        _log = log;
    }

    internal IReadOnlyDictionary<string, NbdExport> Exports => _exports;

    internal Action<string> Log => _log;

    public IPEndPoint? TcpEndPoint { get; private set; }

    /// <summary>The names exported now.</summary>
    public IReadOnlyCollection<string> ExportNames => [.. _exports.Keys];

    /// <summary>Offers another volume; false when the name is taken.</summary>
    public bool AddExport(NbdExport export) => _exports.TryAdd(export.Name, export);

    /// <summary>
    /// Withdraws an export and closes the sessions bound to it, so its engine can be disposed: their clients see the
    /// connection end (as with any NBD server going away) rather than I/O on a detached volume.
    /// </summary>
    public bool RemoveExport(string name)
    {
        if (!_exports.TryRemove(name, out NbdExport? export))
        {
            return false;
        }
        lock (_gate)
        {
            foreach (NbdSession s in _sessions)
            {
                if (ReferenceEquals(s.Export, export))
                {
                    s.Close();
                }
            }
        }
        return true;
    }

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
