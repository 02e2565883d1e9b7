using Shoal.Actors.Placement;

namespace Shoal.Actors.Tests.Placement;

/// <summary>What both strategies owe their caller: spread, capacity, all-or-nothing, and failures as answers.</summary>
public sealed class PlacementTests
{
    public static TheoryData<string, FailureDomainLevel> StrategiesAndLevels()
    {
        var data = new TheoryData<string, FailureDomainLevel>();
        foreach (string strategy in new[] { "copyset", "random" })
        {
            foreach (FailureDomainLevel level in Enum.GetValues<FailureDomainLevel>())
            {
                data.Add(strategy, level);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(StrategiesAndLevels))]
    public void Legs_sit_in_distinct_domains_at_every_level(string strategy, FailureDomainLevel spread)
    {
        var cluster = new TestCluster(TestCluster.Strategy(strategy, seed: 7));
        cluster.AddNodes(zones: 4, racksPerZone: 3, nodesPerRack: 3, drivesPerNode: 3, segmentsPerDrive: 10_000);
        for (int v = 0; v < 300; v++)
        {
            // TestCluster.Place asserts every group's legs apart at the level.
            Assert.True(cluster.Place(groups: 1 + (v % 5), legs: 2 + (v % 2), spread).Succeeded);
        }
        Assert.True(cluster.Place(groups: 3, legs: 1, spread).Succeeded);
    }

    [Theory]
    [InlineData("copyset")]
    [InlineData("random")]
    public void Drive_spread_places_mirrors_on_a_single_node(string strategy)
    {
        var cluster = new TestCluster(TestCluster.Strategy(strategy, seed: 3));
        cluster.AddNode(0, "z0", "r0", drivesPerNode: 4, segmentsPerDrive: 100);
        Assert.True(cluster.Place(groups: 10, legs: 3, FailureDomainLevel.Drive).Succeeded);
        Assert.False(cluster.Place(groups: 1, legs: 2, FailureDomainLevel.Node).Succeeded);
    }

    [Theory]
    [InlineData("copyset")]
    [InlineData("random")]
    public void Capacity_is_never_over_committed(string strategy)
    {
        var cluster = new TestCluster(TestCluster.Strategy(strategy, seed: 11));
        cluster.AddNodes(zones: 3, racksPerZone: 2, nodesPerRack: 2, drivesPerNode: 2, segmentsPerDrive: 200);
        long capacity = cluster.Drives.Values.Sum(d => (long)d.TotalSegments);
        long placed = 0;
        for (int v = 0; v < 10_000; v++)
        {
            int legs = 2 + (v % 2);
            int segments = 1 + (v % 7);
            int groups = 1 + (v % 3);
            if (cluster.Place(groups, legs, FailureDomainLevel.Rack, segments).Succeeded)
            {
                placed += (long)groups * legs * segments;
            }
            cluster.AssertNotOverCommitted();
        }
        // It filled up (the last thousands of requests failed) without ever overshooting.
        Assert.True(placed > capacity * 9 / 10, $"placed {placed} of {capacity} segments");
        Assert.True(placed <= capacity);
    }

    [Theory]
    [InlineData("copyset")]
    [InlineData("random")]
    public void A_full_cluster_gives_a_failure_result_and_reserves_nothing(string strategy)
    {
        var cluster = new TestCluster(TestCluster.Strategy(strategy, seed: 5));
        // 3 zones × 1 node × 1 drive of 10 segments: room for exactly 10 mirror:3 groups of one segment.
        cluster.AddNodes(zones: 3, racksPerZone: 1, nodesPerRack: 1, drivesPerNode: 1, segmentsPerDrive: 10);
        PlacementResult tooMany = cluster.Place(groups: 11, legs: 3, FailureDomainLevel.Zone);
        Assert.False(tooMany.Succeeded);
        // Nothing of the failed request stayed reserved: all ten still fit, then nothing does.
        Assert.True(cluster.Place(groups: 10, legs: 3, FailureDomainLevel.Zone).Succeeded);
        PlacementResult full = cluster.Place(groups: 1, legs: 2, FailureDomainLevel.Node);
        Assert.False(full.Succeeded);
        cluster.AssertNotOverCommitted();
        // Released capacity is placeable again.
        foreach (var drive in cluster.Drives.Keys.ToList())
        {
            cluster.Release(drive, 1);
        }
        Assert.True(cluster.Place(groups: 1, legs: 3, FailureDomainLevel.Zone).Succeeded);
    }

    [Theory]
    [InlineData("copyset")]
    [InlineData("random")]
    public void Too_few_domains_give_a_failure_result(string strategy)
    {
        var cluster = new TestCluster(TestCluster.Strategy(strategy, seed: 5));
        cluster.AddNodes(zones: 2, racksPerZone: 2, nodesPerRack: 2, drivesPerNode: 2, segmentsPerDrive: 100);
        Assert.False(cluster.Place(groups: 1, legs: 3, FailureDomainLevel.Zone).Succeeded);
        Assert.True(cluster.Place(groups: 1, legs: 2, FailureDomainLevel.Zone).Succeeded);
        Assert.True(cluster.Place(groups: 1, legs: 3, FailureDomainLevel.Rack).Succeeded);
        PlacementResult unknown = cluster.Placement.Place(new PlacementRequest(1, 2, "hdd", FailureDomainLevel.Node));
        Assert.False(unknown.Succeeded);
        Assert.Contains("hdd", unknown.FailureReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("copyset")]
    [InlineData("random")]
    public void Upsert_replaces_the_free_count_and_remove_forgets_the_drive(string strategy)
    {
        var cluster = new TestCluster(TestCluster.Strategy(strategy, seed: 5));
        cluster.AddNodes(zones: 2, racksPerZone: 1, nodesPerRack: 1, drivesPerNode: 1, segmentsPerDrive: 10);
        var drives = cluster.Drives.Values.ToList();
        // The drive entity reports one drive full: nothing mirrored fits any more.
        cluster.Placement.UpsertDrive(drives[0] with { FreeSegments = 0 });
        Assert.False(cluster.Placement.Place(new PlacementRequest(1, 2, TestCluster.Class, FailureDomainLevel.Node)).Succeeded);
        cluster.Placement.UpsertDrive(drives[0]);
        Assert.True(cluster.Placement.Place(new PlacementRequest(1, 2, TestCluster.Class, FailureDomainLevel.Node)).Succeeded);
        Assert.True(cluster.Placement.RemoveDrive(drives[1].Id));
        Assert.False(cluster.Placement.RemoveDrive(drives[1].Id));
        Assert.False(cluster.Placement.Release(drives[1].Id, 1));
        Assert.False(cluster.Placement.Place(new PlacementRequest(1, 2, TestCluster.Class, FailureDomainLevel.Node)).Succeeded);
        Assert.True(cluster.Placement.Place(new PlacementRequest(1, 1, TestCluster.Class, FailureDomainLevel.Node)).Succeeded);
    }

    [Fact]
    public void Invalid_requests_are_caller_bugs()
    {
        var placement = TestCluster.Copyset(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => placement.Place(new PlacementRequest(1, 4, TestCluster.Class, FailureDomainLevel.Node)));
        Assert.Throws<ArgumentOutOfRangeException>(() => placement.Place(new PlacementRequest(0, 2, TestCluster.Class, FailureDomainLevel.Node)));
        Assert.Throws<ArgumentOutOfRangeException>(() => placement.Place(new PlacementRequest(1, 2, TestCluster.Class, FailureDomainLevel.Node, SegmentsPerLeg: 0)));
        Assert.Throws<ArgumentException>(() => placement.PlaceReplacement(new ReplacementRequest([], default, TestCluster.Class, FailureDomainLevel.Node)));
    }
}
