using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Drives;

/// <summary>
/// One per node: the node's view of every drive in the cluster, fed by the drive entities' publications, and the
/// placement over it. Volume entities on this node ask it for plans and for drives' endpoints. The view may lag
/// the drive entities by a publication; the drive entity has the last word on every allocation. It also turns
/// cluster membership into drive health: when a node becomes unreachable or leaves, its drives' entities hear of it
/// (which also starts an entity that was living on that node, so its out-after clock runs elsewhere).
/// </summary>
public sealed class DriveDirectoryActor : ReceiveActor, IWithTimers
{
    /// <summary>The directory's name under /user on every node (peers find each other by it).</summary>
    public const string Name = "drive-directory";

    /// <summary>Most drives in one <see cref="DirectorySeed"/> message.</summary>
    public const int SeedBatch = 512;

    /// <summary>
    /// How often a lost node's drives hear of it again, until their entities say they are out: the first notice may
    /// reach a shard still homed on the dead node (and be lost), and the repeats keep the entities from being
    /// passivated while their out-after clock runs.
    /// </summary>
    private static readonly TimeSpan s_lostNodeRepeat = TimeSpan.FromSeconds(5);

    /// <summary>How long a drive entity may take to answer a lookup for a drive the view lacks.</summary>
    private static readonly TimeSpan s_lookupTimeout = TimeSpan.FromSeconds(5);

    private readonly HashSet<NodeId> _lostNodes = [];
    /// <summary>Most drives one directory tracks (400k is the placement benchmark's cluster).</summary>
    public const int MaxDrives = 1 << 20;

    private readonly Dictionary<DriveId, DriveView> _views = [];
    private readonly IPlacement _placement;
    private readonly long _segmentBytes;

    private readonly Func<IActorRef>? _drives;

    /// <param name="drives">the drive shard region (resolved late: it is registered after this actor)</param>
    public DriveDirectoryActor(IPlacement placement, long segmentBytes, IActorRef? mediator, Func<IActorRef>? drives = null)
    {
        _placement = placement;
        _segmentBytes = segmentBytes;
        _drives = drives;
        mediator?.Tell(new Subscribe(DriveActor.DrivesTopic, Self));
        Receive<ClusterEvent.UnreachableMember>(m => NodeLost(m.Member));
        Receive<ClusterEvent.MemberRemoved>(m => NodeLost(m.Member));
        Receive<ClusterEvent.ReachableMember>(m => NodeBack(m.Member));
        Receive<ClusterEvent.MemberUp>(m =>
        {
            NodeBack(m.Member);
            AskPeerView(m.Member);
        });
        Receive<RepeatLostNodes>(_ => TellLostDrives());
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.IReachabilityEvent>(_ => { });
        Receive<ClusterEvent.CurrentClusterState>(_ => { });
        Receive<SubscribeAck>(_ => { });
        Receive<DriveStateReply>(r => Update(r.View));
        Receive<PlanGroups>(p =>
        {
            PlacementResult result = _placement.Place(new PlacementRequest(p.Groups, p.Legs, p.DriveClass, p.Spread));
            Sender.Tell(new PlacementPlan(result.Groups, result.FailureReason));
        });
        Receive<PlanReplacement>(p =>
        {
            ReplacementResult result = _placement.PlaceReplacement(new ReplacementRequest(p.Survivors, p.Lost, p.DriveClass, p.Spread));
            Sender.Tell(result.Succeeded ? new PlacementPlan([[result.Drive]], null) : new PlacementPlan([], result.FailureReason));
        });
        Receive<ResolveDrives>(Resolve);
        Receive<LookedUp>(l =>
        {
            foreach (DriveView view in l.Views)
            {
                Update(view);
            }
            l.ReplyTo.Tell(Resolved(l.Request));
        });
        Receive<SeedDirectory>(_ =>
        {
            foreach (DriveView[] batch in _views.Values.Chunk(SeedBatch))
            {
                Sender.Tell(new DirectorySeed([.. batch]));
            }
        });
        Receive<DirectorySeed>(seed =>
        {
            foreach (DriveView view in seed.Drives.Where(v => !_views.ContainsKey(v.Drive)))
            {
                Update(view);
            }
        });
        Receive<ListDrives>(_ => Sender.Tell(new DriveList([.. _views.Values.OrderBy(v => v.Inventory?.Node.Value).ThenBy(v => v.Drive.ToString())])));
        // The placement reserved capacity when it planned; the drive entities' next publications carry the truth.
        Receive<ReturnPlan>(_ => { });
    }

    protected override void PreStart()
    {
        if (_drives != null)
        {
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.UnreachableMember), typeof(ClusterEvent.MemberRemoved), typeof(ClusterEvent.ReachableMember), typeof(ClusterEvent.MemberUp));
            Timers.StartPeriodicTimer("lost-nodes", RepeatLostNodes.Instance, s_lostNodeRepeat);
        }
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PostStop()
    {
        if (_drives != null)
        {
            Cluster.Get(Context.System).Unsubscribe(Self);
        }
    }

    /// <summary>A node carries its name as a role; every drive this directory knows on that node is told, now and again until it is out.</summary>
    private void NodeLost(Member member)
    {
        foreach (DriveView view in _views.Values)
        {
            if (view.Inventory is { } inv && member.Roles.Contains(inv.Node.Value))
            {
                _lostNodes.Add(inv.Node);
            }
        }
        TellLostDrives();
    }

    private void AskPeerView(Member member)
    {
        if (_drives != null && member.Address != Cluster.Get(Context.System).SelfAddress)
        {
            Context.ActorSelection(new RootActorPath(member.Address) / "user" / Name).Tell(new SeedDirectory());
        }
    }

    private void NodeBack(Member member) => _lostNodes.RemoveWhere(node => member.Roles.Contains(node.Value));

    private void TellLostDrives()
    {
        foreach (DriveView view in _views.Values)
        {
            if (view.Inventory is { } inv && _lostNodes.Contains(inv.Node) && view.Status is not (DriveStatus.Out or DriveStatus.Failed or DriveStatus.Removed))
            {
                _drives!().Tell(new NodeUnreachable(view.Drive, inv.Node));
            }
        }
    }

    /// <summary>
    /// The view is a cache fed by publications, and a node that just started (or a publication it missed) leaves
    /// holes: a drive not in it is asked of its entity before the answer, so a fence or a layout is never refused
    /// for want of a publication.
    /// </summary>
    private void Resolve(ResolveDrives request)
    {
        DriveId[] missing = [.. request.Drives.Where(d => !_views.ContainsKey(d)).Distinct()];
        if (missing.Length == 0 || _drives == null)
        {
            Sender.Tell(Resolved(request));
            return;
        }
        IActorRef region = _drives();
        IActorRef replyTo = Sender;
        Task.WhenAll(missing.Select(async d =>
        {
            try
            {
                return await region.Ask<IDriveReply>(new GetDrive(d), s_lookupTimeout).ConfigureAwait(false) as DriveStateReply;
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return null;
            }
        })).PipeTo(Self, success: replies => new LookedUp(request, replyTo, [.. replies.Where(r => r?.View.Inventory != null).Select(r => r!.View)]));
    }

    private ResolvedDrives Resolved(ResolveDrives request) =>
        new(request.Drives.Where(_views.ContainsKey).Distinct().ToImmutableDictionary(d => d, d => _views[d]));

    private void Update(DriveView view)
    {
        if (!_views.ContainsKey(view.Drive) && _views.Count >= MaxDrives)
        {
            return;
        }
        _views[view.Drive] = view;
        if (view is { Status: DriveStatus.Online, Draining: false, MaintenanceSince: null, Inventory: { } inv } && inv.SegmentBytes == _segmentBytes)
        {
            _placement.UpsertDrive(new PlacementDrive(view.Drive, inv.Domain, inv.DriveClass, inv.SegmentCount, view.FreeSegments));
        }
        else
        {
            _placement.RemoveDrive(view.Drive);
        }
    }

    private sealed record LookedUp(ResolveDrives Request, IActorRef ReplyTo, ImmutableArray<DriveView> Views);

    private sealed class RepeatLostNodes
    {
        public static readonly RepeatLostNodes Instance = new();
    }
}
