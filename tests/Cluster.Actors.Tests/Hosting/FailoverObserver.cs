using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using static Akka.Cluster.ClusterEvent;

namespace Shoal.Actors.Tests.Hosting;

/// <summary>
/// Watches one member from a survivor and notes, against a common stopwatch, when it became unreachable, was downed
/// and was removed; also notes the first <see cref="Pong"/> from any other node (the entity is back).
/// </summary>
public sealed class FailoverObserver : ReceiveActor
{
    public FailoverObserver(Address victim, Stopwatch clock, FailoverTimeline timeline)
    {
        Receive<UnreachableMember>(e => e.Member.Address == victim, _ => timeline.Unreachable.TrySetResult(clock.Elapsed));
        Receive<MemberDowned>(e => e.Member.Address == victim, _ => timeline.Downed.TrySetResult(clock.Elapsed));
        Receive<MemberRemoved>(e => e.Member.Address == victim, _ => timeline.Removed.TrySetResult(clock.Elapsed));
        Receive<Pong>(pong => pong.NodeAddress != victim.ToString(), _ => timeline.EntityBack.TrySetResult(clock.Elapsed));
        ReceiveAny(_ => { });
    }

    protected override void PreStart() =>
        Cluster.Get(Context.System).Subscribe(Self, InitialStateAsEvents, typeof(IReachabilityEvent), typeof(IMemberEvent));

    protected override void PostStop() => Cluster.Get(Context.System).Unsubscribe(Self);
}
