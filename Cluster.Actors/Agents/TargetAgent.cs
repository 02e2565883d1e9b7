using System.Collections.Immutable;
using Akka.Actor;
using Akka.Event;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Target;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Agents;

/// <summary>
/// One per target node: registers the node's drives with their entities, heartbeats them, applies fences to the
/// data-path target (durable on the drive before it answers) and wipes segments their drive entity is releasing.
/// It touches the data path only through the target's control port (<see cref="TargetServer.Fence"/>,
/// <see cref="TargetServer.SegmentInfo"/>); fences block until old-epoch writes drain, so they run off the actor's thread.
/// </summary>
public sealed class TargetAgent : ReceiveActor, IWithTimers
{
    /// <summary>The agent's name under /user on every target node.</summary>
    public const string Name = "target-agent";

    /// <summary>Most segment wipes in flight at once per agent.</summary>
    private const int MaxWipesInFlight = 64;

    private readonly TargetAgentOptions _options;
    private readonly TargetServer _server;
    private readonly IActorRef _drives;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ImmutableArray<(DriveId Id, uint Index, Superblock Super, string Path)> _local;
    private readonly HashSet<string> _adding = [];
    private readonly HashSet<(DriveId, uint)> _wiping = [];

    public TargetAgent(TargetAgentOptions options, TargetServer server, IActorRef drives)
    {
        _options = options;
        _server = server;
        _drives = drives;
        _local = [.. server.Drives.Select((d, i) => (new DriveId(d.Superblock.DriveId), (uint)i, d.Superblock, d.Path))];
        Receive<Heartbeat>(_ => Beat());
        Receive<DriveStateReply>(r => Wipe(r.View));
        Receive<DriveCommandRefused>(r => _log.Warning("drive {0} on {1}: {2}", r.Drive, _options.Node, r.Reason));
        Receive<FenceSegment>(OnFence);
        Receive<Wiped>(OnWiped);
        Receive<AddLocalDrive>(OnAddDrive);
        Receive<DriveOpened>(OnDriveOpened);
        Receive<GetTargetStats>(_ => Sender.Tell(new TargetStats(_options.Node, [.. _local.Select(d =>
        {
            DriveCounters c = _server.Drives[(int)d.Index].Counters;
            return new DriveIoStats(d.Id, Interlocked.Read(ref c.Reads), Interlocked.Read(ref c.Writes), Interlocked.Read(ref c.ReadBytes),
                Interlocked.Read(ref c.WriteBytes), Interlocked.Read(ref c.Errors), LatencyBuckets.Of(c.ReadLatency), c.ReadLatency.SumMicros,
                LatencyBuckets.Of(c.WriteLatency), c.WriteLatency.SumMicros, d.Super.HasChecksums, Interlocked.Read(ref c.ChecksumFailures));
        })])));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The drives this agent serves, as registered.</summary>
    public static DriveInventory Inventory(TargetAgentOptions options, Superblock super, uint index, string path, string agentPath) => new(
        options.Node, path, index, super.DataOffset + (super.SegmentBytes * super.SegmentCount), super.SegmentBytes, super.SegmentCount,
        super.RegionBytes, options.DriveClass, options.Domain, options.DataEndpoint, agentPath, super.HasChecksums);

    protected override void PreStart()
    {
        string agentPath = Self.Path.ToStringWithAddress(((ExtendedActorSystem)Context.System).Provider.DefaultAddress);
        foreach ((DriveId id, uint index, Superblock super, string path) in _local)
        {
            _drives.Tell(new RegisterDrive(id, Inventory(_options, super, index, path, agentPath)));
        }
        Timers.StartPeriodicTimer("heartbeat", Heartbeat.Instance, _options.HeartbeatInterval);
    }

    private void Beat()
    {
        foreach ((DriveId id, _, _, _) in _local)
        {
            _drives.Tell(new DriveHeartbeat(id, _options.Node));
        }
    }

    private void OnFence(FenceSegment f)
    {
        IActorRef replyTo = Sender;
        if (!_local.Any(d => d.Id == f.Drive && d.Index == f.TargetDrive))
        {
            replyTo.Tell(new SegmentFenceResult(f.Drive, f.Segment, f.Epoch, false, $"drive {f.Drive} is not drive {f.TargetDrive} of {_options.Node}"));
            return;
        }
        TargetServer server = _server;
        Task.Run(() => server.Fence(f.TargetDrive, f.Segment, f.Uid.Value, (uint)f.Leg, f.Epoch, f.Writer.Value, f.Claim))
            .PipeTo(replyTo, success: status => new SegmentFenceResult(f.Drive, f.Segment, f.Epoch, status == WireStatus.Ok, status.ToString()));
    }

    private void OnAddDrive(AddLocalDrive add)
    {
        string path = Path.GetFullPath(add.Path);
        if (_options.OpenDrive is not { } open)
        {
            Sender.Tell(new LocalDriveRefused(_options.Node, path, "this target takes no drives while it runs"));
            return;
        }
        if (_local.Any(d => d.Path == path) || !_adding.Add(path))
        {
            Sender.Tell(new LocalDriveRefused(_options.Node, path, $"{path} is already a drive of {_options.Node}"));
            return;
        }
        IActorRef replyTo = Sender;
        TargetServer server = _server;
        Task.Run(() =>
        {
            try
            {
                Shoal.DataPath.Drives.DriveStore store = open(path, add.CreateBytes);
                try
                {
                    return new DriveOpened(path, replyTo, store, server.AddDrive(store), null);
                }
                catch (InvalidOperationException)
                {
                    store.Dispose();
                    throw;
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or ArgumentException or DriveException)
            {
                return new DriveOpened(path, replyTo, null, 0, e.Message);
            }
        }).PipeTo(Self);
    }

    private void OnDriveOpened(DriveOpened opened)
    {
        _adding.Remove(opened.Path);
        if (opened.Store is not { } store)
        {
            _log.Warning("drive {0} on {1} not added: {2}", opened.Path, _options.Node, opened.Error);
            opened.ReplyTo.Tell(new LocalDriveRefused(_options.Node, opened.Path, opened.Error ?? "not opened"));
            return;
        }
        var id = new DriveId(store.Superblock.DriveId);
        _local = _local.Add((id, opened.Index, store.Superblock, store.Path));
        string agentPath = Self.Path.ToStringWithAddress(((ExtendedActorSystem)Context.System).Provider.DefaultAddress);
        _drives.Tell(new RegisterDrive(id, Inventory(_options, store.Superblock, opened.Index, store.Path, agentPath)));
        _log.Info("drive {0} added on {1} as target drive {2} ({3})", id, _options.Node, opened.Index, store.Path);
        opened.ReplyTo.Tell(new LocalDriveAdded(_options.Node, id, store.Path));
    }

    private sealed record DriveOpened(string Path, IActorRef ReplyTo, Shoal.DataPath.Drives.DriveStore? Store, uint Index, string? Error);

    /// <summary>Frees (volume 0) the segments the drive entity is releasing, then confirms them.</summary>
    private void Wipe(DriveView view)
    {
        (DriveId Id, uint Index, Superblock Super, string Path) local = _local.FirstOrDefault(d => d.Id == view.Drive);
        if (local.Id != view.Drive || view.Releasing.IsDefaultOrEmpty)
        {
            return;
        }
        TargetServer server = _server;
        foreach (AllocatedSegment s in view.Releasing)
        {
            if (_wiping.Count >= MaxWipesInFlight || !_wiping.Add((view.Drive, s.Segment)))
            {
                continue;
            }
            uint index = local.Index;
            DriveId drive = view.Drive;
            Task.Run(() => server.Fence(index, s.Segment, 0, 0, 0, 0, force: true))
                .PipeTo(Self, success: status => new Wiped(drive, s.Segment, status));
        }
    }

    private void OnWiped(Wiped w)
    {
        _wiping.Remove((w.Drive, w.Segment));
        if (w.Status != WireStatus.Ok)
        {
            _log.Warning("drive {0}: could not free segment {1}: {2}; retried on the next heartbeat", w.Drive, w.Segment, w.Status);
            return;
        }
        _drives.Tell(new ConfirmSegmentsReleased(w.Drive, [w.Segment]));
    }

    private sealed record Wiped(DriveId Drive, uint Segment, WireStatus Status);

    private sealed class Heartbeat
    {
        public static readonly Heartbeat Instance = new();
    }
}
