using System.Diagnostics;
using System.Runtime.InteropServices;
using Shoal.Actors.Placement;

namespace Shoal.Placement.Bench;

/// <summary>
/// Places the whole plan with one strategy and measures it. Only <see cref="IPlacement.Place"/> is timed; everything
/// else (mapping results back to drive indices, recording legs) happens outside the stopwatch. Legs are recorded in
/// flat int arrays (two or three per group), which is all the peer and loss figures need.
/// </summary>
internal static class StrategyRun
{
    /// <summary>Volumes placed on a small cluster first, so the measured run does not pay for JIT compilation.</summary>
    private const int WarmUpVolumes = 20_000;

    public static IPlacement Create(string strategy, int seed) => strategy switch
    {
        "copyset" => new CopysetPlacement(new Random(seed)),
        "random" => new RandomPlacement(new Random(seed)),
        _ => throw new ArgumentOutOfRangeException(nameof(strategy)),
    };

    public static void WarmUp(string strategy, BenchOptions options)
    {
        BenchOptions small = options with { Nodes = 1_200, Volumes = WarmUpVolumes, GrowPercent = 0 };
        var cluster = new BenchCluster(small);
        VolumePlan plan = VolumePlan.Create(small);
        IPlacement placement = Create(strategy, options.Seed + 1);
        cluster.AddRacks(placement, 0, cluster.Racks);
        for (int v = 0; v < small.Volumes; v++)
        {
            placement.Place(Request(plan, v, options.Spread));
        }
    }

    public static StrategyResult Run(string strategy, BenchCluster cluster, VolumePlan plan, Action<string> log)
    {
        BenchOptions options = cluster.Options;
        long wallStart = Stopwatch.GetTimestamp();
        IPlacement placement = Create(strategy, options.Seed);
        int startRacks = cluster.Racks - (int)Math.Round(cluster.Racks * options.GrowPercent / 100.0);
        int startVolumes = options.Volumes - (int)Math.Round(options.Volumes * options.GrowPercent / 100.0);
        cluster.AddRacks(placement, 0, startRacks);

        var ticks = new long[options.Volumes];
        var used = new long[cluster.Drives];
        var pairs = new List<int>((int)Math.Min(int.MaxValue / 2, plan.TotalGroups * 2));
        var triples = new List<int>();
        int failed = 0;
        string? firstFailure = null;
        long placeTicks = 0;
        for (int v = 0; v < options.Volumes; v++)
        {
            if (v == startVolumes && startRacks < cluster.Racks)
            {
                log($"{strategy}: {v:N0} volumes placed; racks {startRacks:N0}..{cluster.Racks - 1:N0} join");
                cluster.AddRacks(placement, startRacks, cluster.Racks);
            }
            PlacementRequest request = Request(plan, v, options.Spread);
            long t0 = Stopwatch.GetTimestamp();
            PlacementResult result = placement.Place(request);
            long elapsed = Stopwatch.GetTimestamp() - t0;
            ticks[v] = elapsed;
            placeTicks += elapsed;
            if (!result.Succeeded)
            {
                failed++;
                firstFailure ??= $"volume {v}: {result.FailureReason}";
                continue;
            }
            List<int> legs = request.Legs == 3 ? triples : pairs;
            foreach (var group in result.Groups)
            {
                foreach (var drive in group)
                {
                    int d = BenchCluster.IndexOf(drive);
                    legs.Add(d);
                    used[d] += request.SegmentsPerLeg;
                }
            }
            if ((v + 1) % 200_000 == 0)
            {
                log($"{strategy}: {v + 1:N0} volumes placed");
            }
        }

        double usPerTick = 1e6 / Stopwatch.Frequency;
        double firstAfterGrowth = startVolumes < options.Volumes && startRacks < cluster.Racks ? ticks[startVolumes] * usPerTick : double.NaN;
        double firstUs = ticks[0] * usPerTick;
        double meanUs = placeTicks * usPerTick / options.Volumes;
        Array.Sort(ticks);
        (int maxPeers, double meanPeers) = Peers(cluster.Drives, CollectionsMarshal.AsSpan(pairs), CollectionsMarshal.AsSpan(triples));
        var loss = Loss(cluster, CollectionsMarshal.AsSpan(pairs), CollectionsMarshal.AsSpan(triples));
        double meanUsed = used.Average();
        long maxUsed = used.Max();
        log($"{strategy}: done");
        return new StrategyResult
        {
            Strategy = strategy,
            Volumes = options.Volumes,
            FailedPlacements = failed,
            FirstFailure = firstFailure,
            Groups = (pairs.Count / 2) + (triples.Count / 3),
            MeanUs = meanUs,
            P50Us = ticks[ticks.Length / 2] * usPerTick,
            P99Us = ticks[(int)Math.Min(ticks.Length - 1, (long)ticks.Length * 99 / 100)] * usPerTick,
            MaxUs = ticks[^1] * usPerTick,
            FirstPlacementUs = firstUs,
            FirstPlacementAfterGrowthUs = firstAfterGrowth,
            MaxPeers = maxPeers,
            MeanPeers = meanPeers,
            FillImbalance = maxUsed / meanUsed,
            MeanFill = meanUsed / options.SegmentsPerDrive,
            MaxFill = (double)maxUsed / options.SegmentsPerDrive,
            DistinctNodeSingles = loss.Singles,
            DistinctNodePairs = loss.Pairs,
            DistinctNodeTriples = loss.Triples,
            LosingNodeTriples = loss.Count.LosingTriples,
            AllNodeTriples = loss.Count.AllTriples,
            LossProbability = loss.Count.Probability,
            PlaceSeconds = placeTicks / (double)Stopwatch.Frequency,
            WallSeconds = Stopwatch.GetElapsedTime(wallStart).TotalSeconds,
        };
    }

    private static PlacementRequest Request(VolumePlan plan, int v, FailureDomainLevel spread) =>
        new(plan.Groups[v], VolumePlan.Legs(plan.Kinds[v]), BenchCluster.DriveClass, spread, plan.SegmentsPerLeg[v]);

    /// <summary>Distinct peers per drive: every pair of legs in a group is an edge; sort the edges, drop repeats, count ends.</summary>
    private static (int Max, double Mean) Peers(int drives, ReadOnlySpan<int> pairs, ReadOnlySpan<int> triples)
    {
        var edges = new long[(pairs.Length / 2) + triples.Length];
        int n = 0;
        for (int i = 0; i < pairs.Length; i += 2)
        {
            edges[n++] = Edge(pairs[i], pairs[i + 1]);
        }
        for (int i = 0; i < triples.Length; i += 3)
        {
            edges[n++] = Edge(triples[i], triples[i + 1]);
            edges[n++] = Edge(triples[i], triples[i + 2]);
            edges[n++] = Edge(triples[i + 1], triples[i + 2]);
        }
        Array.Sort(edges);
        var degree = new int[drives];
        for (int i = 0; i < edges.Length; i++)
        {
            if (i == 0 || edges[i] != edges[i - 1])
            {
                degree[(int)(edges[i] >> 32)]++;
                degree[(int)(edges[i] & uint.MaxValue)]++;
            }
        }
        return (degree.Max(), degree.Average());

        static long Edge(int a, int b) => a < b ? ((long)a << 32) | (uint)b : ((long)b << 32) | (uint)a;
    }

    private static (long Singles, long Pairs, long Triples, ThreeNodeLoss Count) Loss(BenchCluster cluster, ReadOnlySpan<int> pairLegs, ReadOnlySpan<int> tripleLegs)
    {
        var singles = new List<int>();
        var pairs = new List<long>(pairLegs.Length / 2);
        var triples = new List<long>(tripleLegs.Length / 3);
        for (int i = 0; i < pairLegs.Length; i += 2)
        {
            Add(cluster.NodeOf(pairLegs[i]), cluster.NodeOf(pairLegs[i + 1]), -1);
        }
        for (int i = 0; i < tripleLegs.Length; i += 3)
        {
            Add(cluster.NodeOf(tripleLegs[i]), cluster.NodeOf(tripleLegs[i + 1]), cluster.NodeOf(tripleLegs[i + 2]));
        }
        long[] pairKeys = Distinct([.. pairs]);
        long[] tripleKeys = Distinct([.. triples]);
        int[] singleNodes = [.. singles.Distinct()];
        ThreeNodeLoss count = LossProbability.Count(cluster.Options.Nodes, singleNodes, pairKeys, tripleKeys);
        return (singleNodes.Length, pairKeys.Length, tripleKeys.Length, count);

        // A group's node set: its distinct nodes (legs may share a node only at Drive spread).
        void Add(int a, int b, int c)
        {
            if (c < 0 || c == a || c == b)
            {
                if (a == b)
                {
                    singles.Add(a);
                }
                else
                {
                    pairs.Add(LossProbability.PairKey(a, b));
                }
            }
            else if (a == b)
            {
                pairs.Add(LossProbability.PairKey(a, c));
            }
            else
            {
                triples.Add(LossProbability.TripleKey(a, b, c));
            }
        }
    }

    private static long[] Distinct(long[] keys)
    {
        Array.Sort(keys);
        int n = 0;
        for (int i = 0; i < keys.Length; i++)
        {
            if (n == 0 || keys[n - 1] != keys[i])
            {
                keys[n++] = keys[i];
            }
        }
        return keys[..n];
    }
}
