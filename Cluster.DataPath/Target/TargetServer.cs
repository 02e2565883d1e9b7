using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Transport;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Target;

/// <summary>
/// Serves the segments of local drives over wire protocol v1. One accept thread and one dedicated
/// receive thread per connection; each request runs to completion on its connection's thread
/// (drive I/O, then the reply). Fences are enforced by <see cref="DriveStore"/>.
/// This class is also the target's control port: the control plane calls <see cref="Fence"/>
/// in-process; remote callers use the Fence wire op after the cluster-key handshake.
/// </summary>
public sealed class TargetServer : IDisposable
{
    /// <summary>Copy-on-write: sessions read the array without a lock; <see cref="AddDrive"/> swaps in a longer one.</summary>
    private volatile DriveStore[] _drives;
    private readonly object _drivesGate = new();
    private readonly ClusterKey _key;
    private readonly TargetOptions _options;
    private readonly Action<string> _log;
    private readonly List<TargetSession> _sessions = [];
    private readonly object _sessionsGate = new();
    private Socket? _listener;
    private Thread? _acceptThread;
    private volatile bool _stopping;

    public TargetServer(string name, IReadOnlyList<DriveStore> drives, ClusterKey key, TargetOptions options, Action<string> log)
    {
        Name = name;
        _drives = [.. drives];
        _key = key;
        _options = options;
        _log = log;
    }

    public string Name { get; }

    public TargetCounters Counters { get; } = new();

    public IReadOnlyList<DriveStore> Drives => _drives;

    /// <summary>Most drives one target serves.</summary>
    public const int MaxDrives = 256;

    /// <summary>Serves one more drive (added while running); returns its index, which layouts name.</summary>
    public uint AddDrive(DriveStore drive)
    {
        lock (_drivesGate)
        {
            DriveStore[] current = _drives;
            if (current.Length >= MaxDrives)
            {
                throw new InvalidOperationException($"a target serves at most {MaxDrives} drives");
            }
            if (current.Any(d => d.Superblock.DriveId == drive.Superblock.DriveId))
            {
                throw new InvalidOperationException($"drive {drive.Superblock.DriveId:N} ({drive.Path}) is already served");
            }
            _drives = [.. current, drive];
            return (uint)current.Length;
        }
    }

    public IPEndPoint? LocalEndPoint => _listener?.LocalEndPoint as IPEndPoint;

    internal ClusterKey Key => _key;

    internal TargetOptions Options => _options;

    internal Action<string> Log => _log;

    public void Start(IPEndPoint endpoint)
    {
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Bind(endpoint);
        listener.Listen(128);
        _listener = listener;
        _acceptThread = new Thread(AcceptLoop) { Name = "shoal-target-accept", IsBackground = true };
        _acceptThread.Start();
    }

    private void AcceptLoop()
    {
        int connectionNumber = 0;
        while (!_stopping)
        {
            Socket socket;
            try
            {
                socket = _listener!.Accept();
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
            lock (_sessionsGate)
            {
                _sessions.RemoveAll(s => s.Finished);
                if (_sessions.Count >= _options.MaxConnections)
                {
                    _log($"refusing connection from {socket.RemoteEndPoint}: {_options.MaxConnections} connections already");
                    socket.Dispose();
                    continue;
                }
                var session = new TargetSession(this, new FrameSocket(socket, _options.PollSpinMicros));
                _sessions.Add(session);
                Interlocked.Increment(ref Counters.Connections);
                var thread = new Thread(session.Run) { Name = $"shoal-target-conn-{++connectionNumber}", IsBackground = true };
                thread.Start();
            }
        }
    }

    internal DriveStore? Drive(uint index)
    {
        DriveStore[] drives = _drives;
        return index < (uint)drives.Length ? drives[(int)index] : null;
    }

    /// <summary>Control port: fence a segment (durable before return). See <see cref="DriveStore.Fence"/>.</summary>
    public WireStatus Fence(uint drive, uint segment, ulong volumeId, uint legIndex, ulong epoch, ulong writerId, bool force)
    {
        DriveStore? store = Drive(drive);
        if (store == null)
        {
            return WireStatus.NotFound;
        }
        Interlocked.Increment(ref Counters.Fences);
        WireStatus status = store.Fence(segment, volumeId, legIndex, epoch, writerId, force, TimeSpan.FromMilliseconds(_options.FenceDrainTimeoutMs));
        _log($"fence drive {drive} segment {segment} volume {volumeId} leg {legIndex} epoch {epoch} writer {writerId}{(force ? " (forced)" : "")}: {status}");
        return status;
    }

    /// <summary>Control port: a segment's owner, fence and write-intent bitmap.</summary>
    public SegmentInfo? SegmentInfo(uint drive, uint segment)
    {
        DriveSegment? seg = Drive(drive)?.Segment(segment);
        if (seg == null)
        {
            return null;
        }
        lock (seg.Gate)
        {
            return new SegmentInfo(seg.VolumeId, seg.Epoch, seg.WriterId, seg.LegIndex, _drives[(int)drive].Superblock.RegionBytes, seg.Corrupt, (ulong[])seg.Bitmap.Clone());
        }
    }

    /// <summary>Control port: the target's identity and drives, as JSON.</summary>
    public byte[] Describe()
    {
        var doc = new
        {
            name = Name,
            drives = _drives.Select((d, i) => new
            {
                index = i,
                path = d.Path,
                driveId = d.Superblock.DriveId,
                clusterId = d.Superblock.ClusterId,
                segmentBytes = d.Superblock.SegmentBytes,
                segmentCount = d.Superblock.SegmentCount,
                regionBytes = d.Superblock.RegionBytes,
                direct = d.Direct,
                ioErrors = d.IoErrors,
                checksums = d.Checksums,
                checksumFailures = Interlocked.Read(ref d.Counters.ChecksumFailures),
            }),
            counters = new
            {
                reads = Interlocked.Read(ref Counters.Reads),
                writes = Interlocked.Read(ref Counters.Writes),
                rejected = Interlocked.Read(ref Counters.Rejected),
                badFrames = Interlocked.Read(ref Counters.BadFrames),
                gen0Collections = GC.CollectionCount(0),
            },
        };
        return Encoding.UTF8.GetBytes(JsonSerializer.Serialize(doc));
    }

    public void Dispose()
    {
        _stopping = true;
        _listener?.Dispose();
        lock (_sessionsGate)
        {
            foreach (TargetSession s in _sessions)
            {
                s.Close();
            }
        }
    }
}
