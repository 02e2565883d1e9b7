using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Microsoft.AspNetCore.Http;
using Shoal.Actors.Protocol;
using Shoal.Actors.Sharding;
using Shoal.Management.Api;

namespace Shoal.Management.Gateway;

/// <summary>/cluster, /nodes, /drives and /stats.</summary>
internal static class ClusterRoutes
{
    public static IEnumerable<ApiRoute> All(ControlPlane cp) =>
    [
        new("GET", "/cluster", ApiRole.Read, "Cluster members, their status and reachability", null, "Cluster", _ =>
        {
            ClusterEvent.CurrentClusterState state = cp.ClusterState;
            return Task.FromResult(ApiResult.Ok(new ClusterDto(Cluster.Get(cp.System).SelfAddress.ToString(), state.Leader?.ToString(), Members(cp))));
        }),
        new("GET", "/cluster/sharding", ApiRole.Read, "Sharding regions: shards and entities per node for each entity type", null, "Sharding", async c =>
        {
            var types = new List<ShardTypeDto>();
            foreach (string type in new[] { EntityHosting.VolumeTypeName, EntityHosting.DriveTypeName, EntityHosting.CatalogTypeName })
            {
                ClusterShardingStats stats = await cp.ShardingStats(type, c.RequestAborted);
                types.Add(new ShardTypeDto(type, [.. stats.Regions.OrderBy(r => r.Key.ToString()).Select(r =>
                    new ShardRegionDto(r.Key.ToString(), r.Value.Stats.Count, r.Value.Stats.Values.Sum()))]));
            }
            return ApiResult.Ok(new ShardingDto([.. types]));
        }),
        new("POST", "/cluster/leave", ApiRole.Admin, "Ask a member to leave the cluster gracefully (its shards hand over first)", "AddressRequest", "Cluster", async c =>
        {
            Address address = Member(cp, await ApiJson.Body<AddressRequest>(c)).Address;
            Cluster.Get(cp.System).Leave(address);
            return ApiResult.Accepted(new ClusterDto(Cluster.Get(cp.System).SelfAddress.ToString(), cp.ClusterState.Leader?.ToString(), Members(cp)));
        }),
        new("POST", "/cluster/down", ApiRole.Admin, "Mark an unreachable member down (it must really be dead: its shards start elsewhere)", "AddressRequest", "Cluster", async c =>
        {
            Address address = Member(cp, await ApiJson.Body<AddressRequest>(c)).Address;
            Cluster.Get(cp.System).Down(address);
            return ApiResult.Accepted(new ClusterDto(Cluster.Get(cp.System).SelfAddress.ToString(), cp.ClusterState.Leader?.ToString(), Members(cp)));
        }),
        new("GET", "/nodes", ApiRole.Read, "Nodes with their roles and drives' capacity", null, "NodeList", async c =>
        {
            ImmutableArray<DriveView> drives = await cp.ListDrives(c.RequestAborted);
            ClusterEvent.CurrentClusterState state = cp.ClusterState;
            return ApiResult.Ok(state.Members.OrderBy(m => m.Address.ToString()).Select(m =>
                Node(NodeName(m), m, state, [.. drives.Where(d => d.Inventory?.Node.Value == NodeName(m) && d.Status is not DriveStatus.Removed)])).ToArray());
        }),
        new("POST", "/nodes/{name}/drain", ApiRole.Admin, "Drain a node: no new segments on its drives, and every leg on them moves elsewhere (full rebuild)", null, "Node", async c =>
            ApiResult.Accepted(await SetNodeDraining(cp, c, true))),
        new("POST", "/nodes/{name}/undrain", ApiRole.Admin, "Undrain a node: its drives take new segments again (moved legs stay where they went)", null, "Node", async c =>
            ApiResult.Ok(await SetNodeDraining(cp, c, false))),
        new("GET", "/drives", ApiRole.Read, "Drives with status and capacity", null, "DriveList", async c =>
            ApiResult.Ok((await cp.ListDrives(c.RequestAborted)).Select(ApiMapping.Drive).ToArray())),
        new("GET", "/drives/{id}", ApiRole.Read, "Show one drive", null, "Drive", async c =>
            ApiResult.Ok(ApiMapping.Drive(await cp.DriveCommand(new GetDrive(DriveIdOf(c)), c.RequestAborted)))),
        new("DELETE", "/drives/{id}", ApiRole.Admin, "Remove a drive from the cluster (refused while it holds segments unless ?force=true)", null, "Drive", async c =>
        {
            DriveId id = DriveIdOf(c);
            await cp.DriveCommand(new GetDrive(id), c.RequestAborted);
            bool force = c.Request.Query["force"] is { Count: > 0 } f && (f[0] == "true" ? true : f[0] == "false" ? false : throw ApiException.BadRequest("force must be true or false"));
            return ApiResult.Ok(ApiMapping.Drive(await cp.DriveCommand(new RemoveDrive(id, force), c.RequestAborted)));
        }),
        new("POST", "/drives", ApiRole.Admin, "Add a drive on a target node (formatted when new; a size creates a file drive); it is remembered across restarts", "AddDriveRequest", "Drive", async c =>
        {
            AddDriveRequest request = await ApiJson.Body<AddDriveRequest>(c);
            string node = request.Node ?? throw ApiException.BadRequest("node is required");
            string path = request.Path ?? throw ApiException.BadRequest("path is required");
            if (!System.IO.Path.IsPathFullyQualified(path) || path.Length > 4096 || path.Any(char.IsControl))
            {
                throw ApiException.BadRequest($"path must be an absolute path, not '{path}'");
            }
            if (request.SizeBytes is { } size && (size < (64L << 20) || size > (1L << 50) || size % 4096 != 0))
            {
                throw ApiException.BadRequest("sizeBytes must be a multiple of 4096 from 64 MiB to 1 PiB");
            }
            object reply = await cp.Ask<object>(cp.TargetAgent(node), new AddLocalDrive(path, request.SizeBytes ?? 0), c.RequestAborted);
            return reply switch
            {
                LocalDriveAdded a => ApiResult.Created(ApiMapping.Drive(await cp.DriveCommand(new GetDrive(a.Drive), c.RequestAborted))),
                LocalDriveRefused r => throw ApiException.Conflict(r.Reason),
                _ => throw ApiException.Unavailable($"unexpected answer {reply.GetType().Name}"),
            };
        }),
        new("POST", "/drives/{id}/evacuate", ApiRole.Admin, "Evacuate a drive: no new segments, and each leg on it moves elsewhere (full rebuild); a group's only in-sync copy moves last", null, "Drive", async c =>
        {
            DriveId id = DriveIdOf(c);
            await cp.DriveCommand(new GetDrive(id), c.RequestAborted);
            return ApiResult.Accepted(ApiMapping.Drive(await cp.DriveCommand(new SetDriveDraining(id, true), c.RequestAborted)));
        }),
        new("POST", "/drives/{id}/undrain", ApiRole.Admin, "Stop evacuating a drive: it takes new segments again", null, "Drive", async c =>
        {
            DriveId id = DriveIdOf(c);
            await cp.DriveCommand(new GetDrive(id), c.RequestAborted);
            return ApiResult.Ok(ApiMapping.Drive(await cp.DriveCommand(new SetDriveDraining(id, false), c.RequestAborted)));
        }),
        new("GET", "/stats", ApiRole.Read, "I/O counters of every attached volume, per client node", null, "Stats", async c =>
        {
            ImmutableArray<LocalVolumes> locals = await cp.LocalVolumes(c.RequestAborted);
            return ApiResult.Ok(new StatsDto(DateTimeOffset.UtcNow, [.. locals.SelectMany(l => l.Volumes.Select(v => new VolumeStatsDto(
                v.Volume.Value, l.Node.Value, v.Epoch, v.NbdUri, v.Reads, v.Writes, v.ReadBytes, v.WriteBytes, v.Errors, v.ResyncBytes,
                Mean(v.ReadLatencySumMicros, v.ReadLatencyBuckets), Mean(v.WriteLatencySumMicros, v.WriteLatencyBuckets),
                v.Integrity?.CorruptReadsServed ?? 0, v.Integrity?.BlocksRepaired ?? 0, v.Integrity?.UnrepairableBlocks ?? 0)))]));
        }),
    ];

    private static async Task<NodeDto> SetNodeDraining(ControlPlane cp, HttpContext c, bool draining)
    {
        (string node, Member? member, DriveView[] own) = await NodeWithDrives(cp, c, requireMember: true);
        DriveView[] after = await Task.WhenAll(own.Select(d => cp.DriveCommand(new SetDriveDraining(d.Drive, draining), c.RequestAborted)));
        return Node(node, member, cp.ClusterState, after);
    }

    /// <summary>
    /// The node named in the route, its member (null when it is not in the cluster now, e.g. stopped for an upgrade) and
    /// its drives (not removed); 404 when it is neither a member nor has drives (or is no member and one is required),
    /// 409 when it has no drives.
    /// </summary>
    internal static async Task<(string Node, Member? Member, DriveView[] Drives)> NodeWithDrives(ControlPlane cp, HttpContext c, bool requireMember)
    {
        string node = (string)c.Request.RouteValues["name"]!;
        Member? member = cp.ClusterState.Members.FirstOrDefault(m => NodeName(m) == node);
        DriveView[] own = [.. (await cp.ListDrives(c.RequestAborted)).Where(d => d.Inventory?.Node.Value == node && d.Status is not DriveStatus.Removed)];
        if (member == null && (requireMember || own.Length == 0))
        {
            throw ApiException.NotFound($"no member {node}");
        }
        return own.Length == 0 ? throw ApiException.Conflict($"node {node} has no drives") : (node, member, own);
    }

    /// <summary>A node and its drives as the API shows it; a node that is not a member now shows status "absent".</summary>
    internal static NodeDto Node(string node, Member? m, ClusterEvent.CurrentClusterState state, DriveView[] own) => new(
        node, m?.Address.ToString() ?? "", m == null ? "absent" : ApiMapping.Name(m.Status), m != null && !state.Unreachable.Contains(m),
        m == null ? [] : FunctionRoles(m), own.Length,
        own.Sum(d => d.Inventory?.CapacityBytes ?? 0),
        own.Where(d => d.Status is DriveStatus.Online or DriveStatus.Suspect).Sum(d => (long)d.FreeSegments * (d.Inventory?.SegmentBytes ?? 0)),
        own.Length > 0 && own.All(d => d.Draining), own.Sum(d => d.Allocated.Length + d.Releasing.Length),
        own.Length > 0 && own.All(d => d.MaintenanceSince != null));

    internal static ImmutableArray<string> FunctionRoles(Member m) => [.. m.Roles.Where(r => r is "target" or "client" or "management").Order()];

    private static double Mean(long sumMicros, ImmutableArray<long> buckets)
    {
        long n = buckets.Sum();
        return n == 0 ? 0 : (double)sumMicros / n;
    }

    /// <summary>A member's node name is its role that is not a function role (the node adds its name as its first role).</summary>
    internal static string NodeName(Member m) =>
        m.Roles.FirstOrDefault(r => r is not ("target" or "client" or "management")) ?? m.Address.ToString();

    private static ImmutableArray<MemberDto> Members(ControlPlane cp)
    {
        ClusterEvent.CurrentClusterState state = cp.ClusterState;
        return [.. state.Members.OrderBy(m => m.Address.ToString()).Select(m => new MemberDto(
            m.Address.ToString(), NodeName(m), ApiMapping.Name(m.Status), !state.Unreachable.Contains(m), FunctionRoles(m)))];
    }

    private static Member Member(ControlPlane cp, AddressRequest request)
    {
        string text = request.Address ?? throw ApiException.BadRequest("address is required (a member's address, host:port or node name)");
        // host:port is how an operator gave it to --akka and --seed.
        return cp.ClusterState.Members.FirstOrDefault(m => m.Address.ToString() == text || $"{m.Address.Host}:{m.Address.Port}" == text || NodeName(m) == text)
            ?? throw ApiException.NotFound($"no member {text}");
    }

    private static DriveId DriveIdOf(HttpContext c)
    {
        string text = (string)c.Request.RouteValues["id"]!;
        return Guid.TryParseExact(text, "N", out Guid g) ? new DriveId(g) : throw ApiException.BadRequest($"'{text}' is not a drive id (32 hex digits)");
    }

}
