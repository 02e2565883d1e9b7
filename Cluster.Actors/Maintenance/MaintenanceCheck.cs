using System.Collections.Immutable;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Maintenance;

/// <summary>
/// Whether a node may go into maintenance (be stopped for a restart or an upgrade) right now: refused while any
/// group of any volume would be left without an in-sync leg on a node that stays up, counting every node already in
/// maintenance as away. Pure: the gateway asks it with the volume and drive views it just gathered.
/// </summary>
public static class MaintenanceCheck
{
    /// <summary>Most reasons one answer lists (the rest are counted).</summary>
    public const int MaxReasons = 10;

    /// <summary>One line per group that would be left without an in-sync leg; empty when the node may go.</summary>
    public static ImmutableArray<string> Refusals(NodeId node, IEnumerable<VolumeView> volumes, IEnumerable<DriveView> drives)
    {
        ImmutableHashSet<NodeId> away = NodesInMaintenance(drives).Add(node);
        var reasons = new List<string>();
        int more = 0;
        foreach (VolumeView volume in volumes.Where(v => v.Status == VolumeStatus.Ready).OrderBy(v => v.Volume.Value, StringComparer.Ordinal))
        {
            for (int g = 0; g < volume.Groups.Length; g++)
            {
                ImmutableArray<LegInfo> legs = volume.Groups[g].Legs;
                if (legs.Any(l => l.State == LegState.InSync && !away.Contains(l.Target)))
                {
                    continue;
                }
                if (reasons.Count == MaxReasons)
                {
                    more++;
                    continue;
                }
                LegInfo[] inSync = [.. legs.Where(l => l.State == LegState.InSync)];
                NodeId[] holders = [.. inSync.Select(l => l.Target).Distinct().OrderBy(n => n.Value, StringComparer.Ordinal)];
                reasons.Add(holders.Length == 0
                    ? $"volume {volume.Volume} group {g} has no in-sync leg"
                    : $"volume {volume.Volume} group {g}: its only in-sync {(inSync.Length == 1 ? "leg is" : "legs are")} on {Describe(holders, node)}");
            }
        }
        if (more > 0)
        {
            reasons.Add($"and {more} more groups");
        }
        return [.. reasons];
    }

    /// <summary>Nodes with a drive in maintenance.</summary>
    public static ImmutableHashSet<NodeId> NodesInMaintenance(IEnumerable<DriveView> drives) =>
        [.. drives.Where(d => d.MaintenanceSince != null && d.Inventory != null).Select(d => d.Inventory!.Node)];

    private static string Describe(NodeId[] holders, NodeId node) => string.Join(", ", holders.Select(h =>
        h == node ? $"node {h}" : $"node {h} (in maintenance)"));
}
