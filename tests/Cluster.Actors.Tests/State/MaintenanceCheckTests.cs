using System.Collections.Immutable;
using Shoal.Actors.Drives;
using Shoal.Actors.Maintenance;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using static Shoal.Actors.Tests.State.Fixtures;

namespace Shoal.Actors.Tests.State;

/// <summary>When a node may go into maintenance, and the order of a rolling upgrade.</summary>
public sealed class MaintenanceCheckTests
{
    /// <summary>A mirror:2 volume of two groups, legs on n0 and n1, with the leg states given per group.</summary>
    private static VolumeView Volume(string name, params (LegState N0, LegState N1)[] groups)
    {
        VolumeView view = Created(Mirror(sizeBytes: groups.Length * SegmentBytes)).View() with { Volume = new VolumeName(name) };
        return view with
        {
            Groups = [.. view.Groups.Select((g, i) => new GroupInfo([g.Legs[0] with { State = groups[i].N0 }, g.Legs[1] with { State = groups[i].N1 }]))],
        };
    }

    private static DriveView DriveOn(int node, bool maintenance = false) =>
        DriveState.Empty(Drive(10 + node)).Apply(new DriveRegistered(Drive(10 + node), Inventory(node), T0)).View() with
        {
            MaintenanceSince = maintenance ? T0 : null,
        };

    private static readonly DriveView[] s_drives = [DriveOn(0), DriveOn(1), DriveOn(2)];

    [Fact]
    public void A_node_may_go_while_every_group_keeps_an_in_sync_leg_elsewhere()
    {
        VolumeView healthy = Volume("a", (LegState.InSync, LegState.InSync), (LegState.InSync, LegState.InSync));
        Assert.Empty(MaintenanceCheck.Refusals(new NodeId("n0"), [healthy], s_drives));
        Assert.Empty(MaintenanceCheck.Refusals(new NodeId("n1"), [healthy], s_drives));
        // A node holding no legs at all.
        Assert.Empty(MaintenanceCheck.Refusals(new NodeId("n2"), [healthy], s_drives));
    }

    [Fact]
    public void A_group_whose_only_in_sync_leg_is_on_the_node_refuses_it_naming_volume_and_group()
    {
        VolumeView degraded = Volume("b", (LegState.InSync, LegState.InSync), (LegState.InSync, LegState.Stale));
        ImmutableArray<string> refusals = MaintenanceCheck.Refusals(new NodeId("n0"), [degraded], s_drives);
        Assert.Equal("volume b group 1: its only in-sync leg is on node n0", Assert.Single(refusals));
        // The other node holds the stale leg: it may go (the group keeps n0's in-sync leg).
        Assert.Empty(MaintenanceCheck.Refusals(new NodeId("n1"), [degraded], s_drives));

        VolumeView rebuilding = Volume("c", (LegState.Rebuilding, LegState.InSync));
        Assert.Single(MaintenanceCheck.Refusals(new NodeId("n1"), [rebuilding], s_drives));
        Assert.Empty(MaintenanceCheck.Refusals(new NodeId("n0"), [rebuilding], s_drives));

        VolumeView lost = Volume("d", (LegState.Stale, LegState.Stale));
        Assert.Equal("volume d group 0 has no in-sync leg", Assert.Single(MaintenanceCheck.Refusals(new NodeId("n2"), [lost], s_drives)));
    }

    [Fact]
    public void A_node_already_in_maintenance_counts_as_away()
    {
        VolumeView healthy = Volume("a", (LegState.InSync, LegState.InSync));
        DriveView[] n1Away = [DriveOn(0), DriveOn(1, maintenance: true), DriveOn(2)];
        ImmutableArray<string> refusals = MaintenanceCheck.Refusals(new NodeId("n0"), [healthy], n1Away);
        Assert.Equal("volume a group 0: its only in-sync legs are on node n0, node n1 (in maintenance)", Assert.Single(refusals));
        Assert.Empty(MaintenanceCheck.Refusals(new NodeId("n2"), [healthy], n1Away));
    }

    [Fact]
    public void Many_refusals_are_capped_and_counted()
    {
        var groups = Enumerable.Repeat((LegState.InSync, LegState.Stale), MaintenanceCheck.MaxReasons + 5).ToArray();
        ImmutableArray<string> refusals = MaintenanceCheck.Refusals(new NodeId("n0"), [Volume("big", groups)], s_drives);
        Assert.Equal(MaintenanceCheck.MaxReasons + 1, refusals.Length);
        Assert.Equal("and 5 more groups", refusals[^1]);
    }

    [Fact]
    public void The_plan_puts_plain_nodes_first_the_oldest_late_and_the_gateways_node_last()
    {
        VolumeView v = Volume("a", (LegState.InSync, LegState.InSync), (LegState.InSync, LegState.Stale));
        UpgradeCandidate[] members =
        [
            new("n0", ["client", "management", "target"], Oldest: true),
            new("n1", ["target"], Oldest: false),
            new("n2", ["target"], Oldest: false),
            new("n3", ["management", "target"], Oldest: false),
        ];
        ImmutableArray<UpgradeStep> plan = UpgradePlan.Make(members, [v], s_drives, gatewayNode: "n0");
        Assert.Equal(["n2", "n1", "n3", "n0"], plan.Select(s => s.Node));
        Assert.Equal([1, 2, 3, 4], plan.Select(s => s.Order));
        Assert.Equal([0, 2, 0, 2], plan.Select(s => s.Legs));
        Assert.Contains("last", plan[3].Reason, StringComparison.Ordinal);
        Assert.Contains("oldest", plan[3].Reason, StringComparison.Ordinal);
        // n0 holds group 1's only in-sync leg: its step is refused for now, the others are not.
        Assert.Equal("volume a group 1: its only in-sync leg is on node n0", Assert.Single(plan[3].Refusals));
        Assert.All(plan.Take(3), s => Assert.Empty(s.Refusals));

        // Without the gateway's node among them, the oldest comes after the others of its kind.
        plan = UpgradePlan.Make(members, [v], s_drives, gatewayNode: "n3");
        Assert.Equal(["n2", "n1", "n0", "n3"], plan.Select(s => s.Node));
    }
}
