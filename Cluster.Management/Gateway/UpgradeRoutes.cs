using System.Collections.Immutable;
using Akka.Cluster;
using Shoal.Actors.Maintenance;
using Shoal.Actors.Protocol;
using Shoal.Management.Api;

namespace Shoal.Management.Gateway;

/// <summary>/nodes/{name}/maintenance and /upgrade/plan: a rolling upgrade, one node at a time (docs/adr/0005).</summary>
internal static class UpgradeRoutes
{
    public static IEnumerable<ApiRoute> All(ControlPlane cp) =>
    [
        new("POST", "/nodes/{name}/maintenance", ApiRole.Admin,
            "Put a node into maintenance for a planned restart (its drives' out-after is held, no new segments on them; refused while a group would " +
            "be left without an in-sync leg elsewhere), or take it out (refused until its drives are back online)", "MaintenanceRequest", "Node", async c =>
        {
            MaintenanceRequest request = await ApiJson.Body<MaintenanceRequest>(c);
            bool on = request.On ?? throw ApiException.BadRequest("on is required (true or false)");
            // A node stopped for its upgrade is no member for a while: it is found by its drives.
            (string node, Member? member, DriveView[] own) = await ClusterRoutes.NodeWithDrives(cp, c, requireMember: false);
            if (on && own.Any(d => d.MaintenanceSince == null))
            {
                ImmutableArray<string> refusals = MaintenanceCheck.Refusals(new NodeId(node), await cp.ListVolumes(c.RequestAborted), await cp.ListDrives(c.RequestAborted));
                if (!refusals.IsEmpty)
                {
                    throw new ApiException(409, "maintenance-refused", "That would leave a group without an in-sync leg",
                        $"node {node} may not go into maintenance: {string.Join("; ", refusals)}");
                }
            }
            if (!on && own.FirstOrDefault(d => d.MaintenanceSince != null && d.Status != DriveStatus.Online) is { } away)
            {
                throw ApiException.Conflict($"node {node} stays in maintenance until its drives are back online (drive {away.Drive} is {ApiMapping.Name(away.Status)})");
            }
            DriveView[] after = await Task.WhenAll(own.Select(d => cp.DriveCommand(new SetDriveMaintenance(d.Drive, on), c.RequestAborted)));
            return ApiResult.Ok(ClusterRoutes.Node(node, member, cp.ClusterState, after));
        }),
        new("GET", "/upgrade/plan", ApiRole.Read,
            "The order in which to restart the nodes for a rolling upgrade, with a reason per node and what would refuse its maintenance now", null, "UpgradePlan", async c =>
        {
            ImmutableArray<VolumeView> volumes = await cp.ListVolumes(c.RequestAborted);
            ImmutableArray<DriveView> drives = await cp.ListDrives(c.RequestAborted);
            Member[] members = [.. cp.ClusterState.Members.Where(m => m.Status is MemberStatus.Up or MemberStatus.WeaklyUp or MemberStatus.Joining)];
            Member? oldest = members.Length == 0 ? null : members.Aggregate((a, b) => a.IsOlderThan(b) ? a : b);
            ImmutableArray<UpgradeStep> steps = UpgradePlan.Make(
                members.Select(m => new UpgradeCandidate(ClusterRoutes.NodeName(m), ClusterRoutes.FunctionRoles(m), m == oldest)), volumes, drives, cp.Options.NodeName);
            return ApiResult.Ok(new UpgradePlanDto(cp.Options.NodeName,
                [.. steps.Select(s => new UpgradeStepDto(s.Order, s.Node, s.Roles, s.Legs, s.InMaintenance, s.Reason, s.Refusals))]));
        }),
    ];
}
