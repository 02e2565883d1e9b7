using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Drives;

/// <summary>
/// The sharded drive entity: recovers <see cref="DriveState"/> from its journal, decides, persists, applies, replies.
/// Besides that it only keeps the health clock (a timer and the time of the last heartbeat, which is volatile on
/// purpose: a new incarnation gives the drive a full suspect-after of grace), publishes its view to the drive
/// directories, and tells the volumes holding its segments when it goes out or fails.
/// </summary>
public sealed class DriveActor : ReceivePersistentActor, IWithTimers
{
    public const string DrivesTopic = "shoal-drives";

    /// <summary>Health ticks between unprompted publications of the view (and re-sent lost-drive notices).</summary>
    private const int RepublishTicks = 10;

    private readonly DriveId _drive;
    private readonly DriveHealthOptions _options;
    private readonly IActorRef _volumes;
    private readonly IActorRef _drivesTopic;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private DriveState _state;
    private DateTimeOffset _lastHeartbeat;
    private int _ticks;

    /// <param name="volumes">the volume shard region, told when this drive goes out or fails</param>
    /// <param name="drivesTopic">where the drive's view is published: the distributed pub-sub mediator in a cluster</param>
    public DriveActor(string entityId, DriveHealthOptions options, IActorRef volumes, IActorRef drivesTopic)
    {
        _drive = DriveId.Parse(entityId);
        _options = options;
        _volumes = volumes;
        _drivesTopic = drivesTopic;
        _state = DriveState.Empty(_drive);
        Recover<IDriveEvent>(e => _state = _state.Apply(e));
        Command<IDriveCommand>(Handle);
        Command<HealthTick>(_ => Tick());
    }

    public override string PersistenceId => "drive-" + _drive;

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => Context.System.Scheduler.Now;

    protected override void OnReplaySuccess()
    {
        _lastHeartbeat = Now;
        Timers.StartPeriodicTimer("health", HealthTick.Instance, _options.HeartbeatInterval);
    }

    private void Tick()
    {
        _ticks++;
        Handle(new CheckDriveHealth(_drive, _lastHeartbeat), reply: false);
        if (_state.Status == DriveStatus.Unregistered)
        {
            return;
        }
        if (_ticks is 2 or 4)
        {
            // A publication right after a node joins can reach a mediator that has not yet gossiped every
            // directory's subscription (about a second); two early repeats fill that hole long before the regular one.
            Publish();
        }
        if (_ticks % RepublishTicks == 0)
        {
            Publish();
            if (_state.Status is DriveStatus.Out or DriveStatus.Failed)
            {
                NotifyVolumes();
            }
            else if (_state.Draining)
            {
                // Legs that could not move yet (their group's only in-sync copy, or no capacity) are asked again.
                NotifyEvacuate();
            }
        }
    }

    private void Handle(IDriveCommand command) => Handle(command, reply: true);

    private void Handle(IDriveCommand command, bool reply)
    {
        if (command is DriveHeartbeat or RegisterDrive)
        {
            _lastHeartbeat = Now;
        }
        Decision<IDriveEvent, IDriveReply> decision = _state.Decide(command, Now, _options);
        IActorRef sender = reply ? Sender : ActorRefs.Nobody;
        if (decision.Events.IsEmpty)
        {
            sender.Tell(decision.Reply);
            return;
        }
        DriveStatus before = _state.Status;
        int left = decision.Events.Length;
        PersistAll(decision.Events, e =>
        {
            _state = _state.Apply(e);
            if (e is DriveStatusChanged s)
            {
                _log.Info("drive {0} on {1}: {2} -> {3} ({4})", _drive, _state.Inventory?.Node, s.From, s.To, s.Reason);
            }
            else if (e is DriveMaintenanceChanged m)
            {
                _log.Info("drive {0} on {1}: maintenance {2} ({3})", _drive, _state.Inventory?.Node, m.Maintenance ? "on: out-after held" : "off", m.Reason);
            }
            if (--left > 0)
            {
                return;
            }
            sender.Tell(decision.Reply);
            Publish();
            if (before != _state.Status && _state.Status is DriveStatus.Out or DriveStatus.Failed)
            {
                NotifyVolumes();
            }
            if (decision.Events.Any(e => e is DriveDrainingChanged { Draining: true }))
            {
                NotifyEvacuate();
            }
        });
    }

    private void Publish()
    {
        _drivesTopic.Tell(new Akka.Cluster.Tools.PublishSubscribe.Publish(DrivesTopic, new DriveStateReply(_state.View())));
    }

    private void NotifyVolumes()
    {
        foreach (VolumeName volume in _state.Allocated.Values.Select(o => o.Volume).Distinct())
        {
            _volumes.Tell(new DriveLost(volume, _drive));
        }
    }

    private void NotifyEvacuate()
    {
        foreach (VolumeName volume in _state.Allocated.Values.Select(o => o.Volume).Distinct())
        {
            _volumes.Tell(new EvacuateDrive(volume, _drive));
        }
    }

    private sealed class HealthTick
    {
        public static readonly HealthTick Instance = new();
    }
}
