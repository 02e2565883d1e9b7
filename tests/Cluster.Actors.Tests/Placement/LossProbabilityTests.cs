using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Xunit.Abstractions;

namespace Shoal.Actors.Tests.Placement;

/// <summary>The exact three-failure count against enumeration of every triple.</summary>
public sealed class LossProbabilityTests(ITestOutputHelper output)
{
    [Fact]
    public void Count_matches_brute_force_on_random_node_sets()
    {
        int seed = TestSeed.Next(output);
        var random = new Random(seed);
        for (int trial = 0; trial < 300; trial++)
        {
            int n = random.Next(0, 16);
            var sets = new List<int[]>();
            for (int s = random.Next(0, 3); s > 0 && n > 0; s--)
            {
                sets.Add([random.Next(n)]);
            }
            for (int s = random.Next(0, 30); s > 0 && n >= 2; s--)
            {
                sets.Add(Distinct(random, n, 2));
            }
            for (int s = random.Next(0, 30); s > 0 && n >= 3; s--)
            {
                sets.Add(Distinct(random, n, 3));
            }
            ThreeNodeLoss counted = Count(n, sets);
            Assert.Equal(BruteForce(n, sets), counted.LosingTriples);
            Assert.Equal(n < 3 ? 0 : (long)n * (n - 1) * (n - 2) / 6, counted.AllTriples);
        }
    }

    [Theory]
    [InlineData("copyset")]
    [InlineData("random")]
    public void Count_matches_brute_force_on_a_placed_tiny_cluster(string strategy)
    {
        var cluster = new TestCluster(TestCluster.Strategy(strategy, seed: 21));
        int nodes = cluster.AddNodes(zones: 3, racksPerZone: 2, nodesPerRack: 2, drivesPerNode: 2, segmentsPerDrive: 1_000);
        for (int v = 0; v < 60; v++)
        {
            Assert.True(cluster.Place(groups: 2, legs: 2 + (v % 2), FailureDomainLevel.Rack).Succeeded);
        }
        // One single-node group too (Drive spread may put both legs on one node).
        cluster.AddNode(nodes, "z9", "r0", drivesPerNode: 2, segmentsPerDrive: 1_000);
        nodes++;
        List<int[]> sets = NodeSets(cluster);
        sets.Add([nodes - 1]);
        Assert.Equal(BruteForce(nodes, sets), Count(nodes, sets).LosingTriples);
        Assert.True(Count(nodes, sets).LosingTriples > 0);
    }

    [Fact]
    public void Count_stays_exact_at_the_node_limit()
    {
        // C(MaxNodes, 3) is near 2^60: the count must not overflow on the way there.
        ThreeNodeLoss loss = LossProbability.Count(LossProbability.MaxNodes, [], [LossProbability.PairKey(0, LossProbability.MaxNodes - 1)], []);
        long n = LossProbability.MaxNodes;
        Assert.Equal((System.Numerics.BigInteger)n * (n - 1) * (n - 2) / 6, loss.AllTriples);
        Assert.Equal(n - 2, loss.LosingTriples);
    }

    /// <summary>P(loss | 3 nodes) of what <paramref name="cluster"/> recorded, nodes numbered as TestCluster names them.</summary>
    internal static ThreeNodeLoss Measure(TestCluster cluster, int nodeCount) => Count(nodeCount, NodeSets(cluster));

    private static List<int[]> NodeSets(TestCluster cluster) =>
        [.. cluster.Groups.Select(g => g.Legs.Where(d => d != default).Select(d => NodeOf(cluster, d)).Distinct().ToArray()).Where(s => s.Length > 0)];

    private static int NodeOf(TestCluster cluster, DriveId drive) => int.Parse(cluster.Drives[drive].Domain.Node.AsSpan(1), provider: null);

    private static ThreeNodeLoss Count(int n, List<int[]> sets) => LossProbability.Count(
        n,
        [.. sets.Where(s => s.Length == 1).Select(s => s[0])],
        [.. sets.Where(s => s.Length == 2).Select(s => LossProbability.PairKey(s[0], s[1]))],
        [.. sets.Where(s => s.Length == 3).Select(s => LossProbability.TripleKey(s[0], s[1], s[2]))]);

    private static long BruteForce(int n, List<int[]> sets)
    {
        long losing = 0;
        for (int a = 0; a < n; a++)
        {
            for (int b = a + 1; b < n; b++)
            {
                for (int c = b + 1; c < n; c++)
                {
                    if (sets.Any(s => s.All(x => x == a || x == b || x == c)))
                    {
                        losing++;
                    }
                }
            }
        }
        return losing;
    }

    private static int[] Distinct(Random random, int n, int count)
    {
        var set = new HashSet<int>();
        while (set.Count < count)
        {
            set.Add(random.Next(n));
        }
        return [.. set];
    }
}
