using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Shoal.Actors.Drives;
using Shoal.Actors.Protocol;
using Shoal.Actors.Sharding;

namespace Shoal.Management.Gateway;

/// <summary>
/// The gateway's only way into the cluster: every request becomes a message to a sharded entity (volume, drive,
/// catalog), this node's drive directory, or a node's client agent, and its answer becomes the response. Nothing
/// here keeps state of its own.
/// </summary>
public sealed class ControlPlane(ActorSystem system, GatewayOptions options)
{
    /// <summary>Most entity questions one list request has in flight at once.</summary>
    private const int MaxParallelAsks = 32;

    private readonly ActorRegistry _registry = ActorRegistry.For(system);

    public ActorSystem System => system;

    public GatewayOptions Options => options;

    private IActorRef Volumes => _registry.Get<VolumeRegion>();

    private IActorRef Drives => _registry.Get<DriveRegion>();

    private IActorRef Directory => _registry.Get<DriveDirectory>();

    private IActorRef Catalog => _registry.Get<CatalogRegion>();

    public async Task<T> Ask<T>(ICanTell to, object message, CancellationToken cancel)
    {
        try
        {
            return await to.Ask<T>(message, options.AskTimeout, cancel).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            throw ApiException.Unavailable($"no answer to {message.GetType().Name} within {options.AskTimeout.TotalSeconds:0} s; the entity may be moving between nodes, try again");
        }
        catch (InvalidCastException e)
        {
            throw ApiException.Unavailable($"unexpected answer to {message.GetType().Name}: {e.Message}");
        }
    }

    public async Task<VolumeView?> FindVolume(VolumeName name, CancellationToken cancel)
    {
        IVolumeReply reply = await Ask<IVolumeReply>(Volumes, new GetVolume(name), cancel).ConfigureAwait(false);
        return reply switch
        {
            VolumeStateReply { View.Status: VolumeStatus.Ready or VolumeStatus.Deleting } r => r.View,
            VolumeStateReply => null,
            VolumeCommandRefused r => throw Refused(r),
            _ => throw ApiException.Unavailable($"unexpected answer {reply.GetType().Name}"),
        };
    }

    public async Task<VolumeView> GetVolume(VolumeName name, CancellationToken cancel) =>
        await FindVolume(name, cancel).ConfigureAwait(false) ?? throw ApiException.NotFound($"volume {name} does not exist");

    /// <summary>
    /// Every volume, a page at a time: what the maintenance check and the metrics must see whole (the catalog bounds
    /// how many there are).
    /// </summary>
    public async Task<ImmutableArray<VolumeView>> ListVolumes(CancellationToken cancel)
    {
        var all = ImmutableArray.CreateBuilder<VolumeView>();
        VolumeName? after = null;
        while (true)
        {
            (ImmutableArray<VolumeView> views, VolumeName? last, bool more) = await ListVolumes(after, options.MaxListedVolumes, cancel).ConfigureAwait(false);
            all.AddRange(views);
            if (!more)
            {
                return all.ToImmutable();
            }
            after = last;
        }
    }

    /// <summary>
    /// One page of volumes in ordinal name order: the cataloged names after <paramref name="after"/>, at most
    /// <paramref name="limit"/>, each asked of its entity. <c>More</c> says whether names remain after the page.
    /// </summary>
    public async Task<(ImmutableArray<VolumeView> Views, VolumeName? Last, bool More)> ListVolumes(VolumeName? after, int limit, CancellationToken cancel)
    {
        CatalogReply catalog = await Ask<CatalogReply>(Catalog, new GetCatalog(), cancel).ConfigureAwait(false);
        VolumeName[] names = [.. catalog.Volumes.Where(n => after == null || string.CompareOrdinal(n.Value, after.Value.Value) > 0)
            .OrderBy(n => n.Value, StringComparer.Ordinal).Take(limit + 1)];
        bool more = names.Length > limit;
        names = more ? names[..limit] : names;
        var views = new VolumeView?[names.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, views.Length), new ParallelOptions { MaxDegreeOfParallelism = MaxParallelAsks, CancellationToken = cancel }, async (i, ct) =>
        {
            IVolumeReply reply = await Ask<IVolumeReply>(Volumes, new GetVolume(names[i]), ct).ConfigureAwait(false);
            if (reply is VolumeStateReply { View.Status: VolumeStatus.Deleted })
            {
                // A tombstone: the name is free again. (A name whose create has not committed yet stays: it is on its way.)
                Catalog.Tell(new UncatalogVolume(names[i]));
            }
            views[i] = reply is VolumeStateReply { View.Status: VolumeStatus.Ready or VolumeStatus.Deleting } r ? r.View : null;
        }).ConfigureAwait(false);
        return ([.. views.Where(v => v != null).Select(v => v!)], names.Length > 0 ? names[^1] : null, more);
    }

    /// <summary>Catalogs the name first (so the volume is always listed), then creates; the same spec again answers the existing volume.</summary>
    public async Task<(VolumeView View, bool Created)> CreateVolume(VolumeName name, VolumeSpec spec, CancellationToken cancel)
    {
        VolumeView? existing = await FindVolume(name, cancel).ConfigureAwait(false);
        object cataloged = await Ask<object>(Catalog, new CatalogVolume(name), cancel).ConfigureAwait(false);
        if (cataloged is CatalogRefused refused)
        {
            throw new ApiException(507, "catalog-full", "The cluster holds its maximum number of volumes", refused.Reason);
        }
        IVolumeReply reply = await Ask<IVolumeReply>(Volumes, new CreateVolume(name, spec), cancel).ConfigureAwait(false);
        return reply switch
        {
            VolumeStateReply r => (r.View, existing == null),
            VolumeCommandRefused r => throw Refused(r),
            _ => throw ApiException.Unavailable($"unexpected answer {reply.GetType().Name}"),
        };
    }

    public async Task<VolumeView> Command(IVolumeCommand command, CancellationToken cancel)
    {
        IVolumeReply reply = await Ask<IVolumeReply>(Volumes, command, cancel).ConfigureAwait(false);
        return reply switch
        {
            VolumeStateReply r => r.View,
            VolumeCommandRefused r => throw Refused(r),
            _ => throw ApiException.Unavailable($"unexpected answer {reply.GetType().Name}"),
        };
    }

    public async Task<ImmutableArray<DriveView>> ListDrives(CancellationToken cancel) =>
        (await Ask<DriveList>(Directory, new ListDrives(), cancel).ConfigureAwait(false)).Drives;

    public async Task<DriveView> DriveCommand(IDriveCommand command, CancellationToken cancel)
    {
        IDriveReply reply = await Ask<IDriveReply>(Drives, command, cancel).ConfigureAwait(false);
        return reply switch
        {
            DriveStateReply { View.Status: DriveStatus.Unregistered } when command is GetDrive => throw ApiException.NotFound($"drive {command.Drive} is not known"),
            DriveStateReply r => r.View,
            DriveCommandRefused r => throw ApiException.Conflict(r.Reason),
            _ => throw ApiException.Unavailable($"unexpected answer {reply.GetType().Name}"),
        };
    }

    /// <summary>The target agent of a node.</summary>
    public ActorSelection TargetAgent(string node) => Agent(node, "target", Actors.Agents.TargetAgent.Name);

    /// <summary>The client agent of a node.</summary>
    public ActorSelection ClientAgent(string node) => Agent(node, "client", Actors.Agents.ClientAgent.Name);

    /// <summary>A node's agent under /user: its member carries the node's name as a role, and needs the agent's function role.</summary>
    private ActorSelection Agent(string node, string role, string agentName)
    {
        Member member = Members().FirstOrDefault(m => m.Roles.Contains(node) && m.Status == MemberStatus.Up)
            ?? throw ApiException.NotFound($"node {node} is not an up member of the cluster");
        if (!member.Roles.Contains(role))
        {
            throw ApiException.Conflict($"node {node} does not have the {role} role");
        }
        return system.ActorSelection(member.Address + "/user/" + agentName);
    }

    public IEnumerable<Member> Members() => Cluster.Get(system).State.Members;

    public ClusterEvent.CurrentClusterState ClusterState => Cluster.Get(system).State;

    public async Task<ClusterShardingStats> ShardingStats(string typeName, CancellationToken cancel) =>
        await Ask<ClusterShardingStats>(ClusterSharding.Get(system).ShardRegion(typeName), new GetClusterShardingStats(options.AskTimeout), cancel).ConfigureAwait(false);

    /// <summary>Every client node's attached volumes (nodes that do not answer in time are left out).</summary>
    public Task<ImmutableArray<LocalVolumes>> LocalVolumes(CancellationToken cancel) =>
        AskEveryAgent<LocalVolumes>("client", Actors.Agents.ClientAgent.Name, new GetLocalVolumes(), cancel);

    /// <summary>Every target node's drives' I/O counters (nodes that do not answer in time are left out).</summary>
    public Task<ImmutableArray<TargetStats>> TargetStats(CancellationToken cancel) =>
        AskEveryAgent<TargetStats>("target", Actors.Agents.TargetAgent.Name, new GetTargetStats(), cancel);

    /// <summary>Asks the agent of every up member with <paramref name="role"/> at once; a node that does not answer within 3 s is left out.</summary>
    private async Task<ImmutableArray<T>> AskEveryAgent<T>(string role, string agentName, object message, CancellationToken cancel) where T : class
    {
        Member[] members = [.. Members().Where(m => m.Status == MemberStatus.Up && m.Roles.Contains(role))];
        T?[] answers = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                return await system.ActorSelection(m.Address + "/user/" + agentName).Ask<T>(message, TimeSpan.FromSeconds(3), cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or ActorNotFoundException)
            {
                return null;
            }
        })).ConfigureAwait(false);
        return [.. answers.Where(a => a != null).Select(a => a!)];
    }

    public static ApiException Refused(VolumeCommandRefused r) => Refused(r.Code, r.Reason);

    public static ApiException Refused(VolumeRefusal code, string reason) => code switch
    {
        VolumeRefusal.Invalid => ApiException.BadRequest(reason),
        VolumeRefusal.NotFound => ApiException.NotFound(reason),
        VolumeRefusal.Conflict => ApiException.Conflict(reason),
        VolumeRefusal.Attached => new ApiException(409, "attached", "The volume is attached", reason),
        VolumeRefusal.NotWriter => new ApiException(409, "not-writer", "Not the volume's writer", reason),
        VolumeRefusal.LastInSyncLeg => new ApiException(409, "last-in-sync-leg", "That would leave a group without an in-sync leg", reason),
        VolumeRefusal.NoCapacity => new ApiException(507, "no-capacity", "The cluster has no capacity for this", reason),
        _ => ApiException.Unavailable(reason),
    };
}
