using System.Collections.Immutable;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Maintenance;

/// <summary>
/// The order in which to restart the nodes of a rolling upgrade (DESIGN.md §5: maintenance on, stop, replace the
/// binary, start, delta resync, maintenance off, next node). Pure. The order keeps the cluster's services where
/// the operator needs them until the end:
/// nodes without the management role first (the REST gateway and the GUI stay up), then management nodes; among
/// those, the oldest member late (it hosts the shard coordinator and the cluster's singletons, which move when it
/// stops); fewer legs first (a shorter resync, and an early failure costs less); the node whose gateway answers the
/// plan last of all (restarting it ends the operator's session).
/// </summary>
public static class UpgradePlan
{
    public static ImmutableArray<UpgradeStep> Make(IEnumerable<UpgradeCandidate> members, IReadOnlyCollection<VolumeView> volumes, IReadOnlyCollection<DriveView> drives, string gatewayNode)
    {
        ImmutableHashSet<NodeId> inMaintenance = MaintenanceCheck.NodesInMaintenance(drives);
        Dictionary<string, int> legs = volumes.Where(v => v.Status == VolumeStatus.Ready)
            .SelectMany(v => v.Groups).SelectMany(g => g.Legs)
            .GroupBy(l => l.Target.Value).ToDictionary(g => g.Key, g => g.Count());
        var ordered = members
            .Select(m => (Member: m, Legs: legs.GetValueOrDefault(m.Node), Gateway: m.Node == gatewayNode, Management: m.Roles.Contains("management")))
            .OrderBy(m => m.Gateway)
            .ThenBy(m => m.Management)
            .ThenBy(m => m.Member.Oldest)
            .ThenBy(m => m.Legs)
            .ThenBy(m => m.Member.Node, StringComparer.Ordinal)
            .ToArray();
        return [.. ordered.Select((m, i) => new UpgradeStep(i + 1, m.Member.Node, m.Member.Roles, m.Legs, inMaintenance.Contains(new NodeId(m.Member.Node)),
            Reason(m.Member, m.Legs, m.Gateway, m.Management),
            MaintenanceCheck.Refusals(new NodeId(m.Member.Node), volumes, drives)))];
    }

    private static string Reason(UpgradeCandidate m, int legs, bool gateway, bool management)
    {
        var parts = new List<string>
        {
            gateway ? "the gateway answering this plan: last"
                : management ? "management role: after the nodes without it, so the API stays up"
                : "no management role: first",
        };
        if (m.Oldest)
        {
            parts.Add("oldest member (shard coordinator and singletons move when it stops): late");
        }
        parts.Add(legs == 0 ? "holds no legs" : $"{legs} legs to resync after its restart");
        if (m.Roles.Contains("client"))
        {
            parts.Add("client: the NBD connections of its attached volumes drop while it restarts");
        }
        return string.Join("; ", parts);
    }
}
