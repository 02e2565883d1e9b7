using System.Collections.Immutable;
using Akka.Actor;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Tests.Actors;

/// <summary>
/// Stands in for a node's target agent in the actor tests: registers and heartbeats its drives like the real one,
/// answers fences from a switch instead of a drive (recording every fence in order), and confirms releases at once.
/// The real agent, over a real target, runs in the in-process cluster test.
/// </summary>
internal sealed class FakeTargetAgent : ReceiveActor, IWithTimers
{
    public sealed record SetFailing(bool Failing);

    public sealed record SetHeartbeats(bool On);

    public sealed record GetFences;

    public sealed record Fences(ImmutableArray<FenceSegment> All);

    private readonly NodeId _node;
    private readonly IActorRef _drives;
    private readonly ImmutableArray<(DriveId Id, DriveInventory Inventory)> _local;
    private readonly List<FenceSegment> _fences = [];
    private bool _failing;
    private bool _heartbeats = true;

    public FakeTargetAgent(NodeId node, IActorRef drives, ImmutableArray<(DriveId, DriveInventory)> local)
    {
        _node = node;
        _drives = drives;
        _local = local;
        Receive<SetFailing>(m => _failing = m.Failing);
        Receive<SetHeartbeats>(m => _heartbeats = m.On);
        Receive<GetFences>(_ => Sender.Tell(new Fences([.. _fences])));
        Receive<FenceSegment>(f =>
        {
            _fences.Add(f);
            Sender.Tell(new SegmentFenceResult(f.Drive, f.Segment, f.Epoch, !_failing, _failing ? "IoError" : "Ok"));
        });
        Receive<Beat>(_ =>
        {
            if (_heartbeats)
            {
                foreach ((DriveId Id, DriveInventory Inventory) drive in _local)
                {
                    _drives.Tell(new DriveHeartbeat(drive.Id, _node));
                }
            }
        });
        Receive<DriveStateReply>(r =>
        {
            if (!r.View.Releasing.IsDefaultOrEmpty)
            {
                _drives.Tell(new ConfirmSegmentsReleased(r.View.Drive, [.. r.View.Releasing.Select(s => s.Segment)]));
            }
        });
        Receive<DriveCommandRefused>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        foreach ((DriveId id, DriveInventory inventory) in _local)
        {
            _drives.Tell(new RegisterDrive(id, inventory));
        }
        Timers.StartPeriodicTimer("beat", Beat.Instance, TimeSpan.FromSeconds(1));
    }

    private sealed class Beat
    {
        public static readonly Beat Instance = new();
    }
}
