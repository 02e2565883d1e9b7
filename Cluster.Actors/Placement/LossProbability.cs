using System.Diagnostics;

namespace Shoal.Actors.Placement;

/// <summary>
/// Exact odds that three simultaneous node failures lose data, from the distinct node sets that hold groups: a
/// group is lost when every node holding one of its legs fails, so only the sets matter — of size 1 (all legs on one
/// node, Drive spread), 2 (mirror:2) or 3 (mirror:3) — never how many groups share one.
/// <para>
/// Counting: let S be the lost singles, and the "bad pair" graph the pair sets among the other N' = N − |S| nodes. A
/// triple of failed nodes loses data when it holds a single (C(N,3) − C(N',3) triples), or else a bad pair, or else
/// is itself a bad triple. If a triple holds k bad pairs (0..3), then Σk = P·(N'−2) (each pair and any third node),
/// ΣC(k,2) = W = Σ_v C(deg v, 2) (two pairs sharing a node name their triple), ΣC(k,3) = T (triangles); and
/// k − C(k,2) + C(k,3) is 1 for k = 1, 2, 3, so triples with a bad pair = P·(N'−2) − W + T. Bad triples that hold no
/// bad pair and no single are counted one by one. Monte Carlo would not do: at 10^-4 it would need ~10^6 trials per
/// digit, and the copyset side is lower still.
/// </para>
/// </summary>
internal static class LossProbability
{
    /// <summary>Nodes a key can name: three 21-bit node numbers fit one 64-bit triple key.</summary>
    public const int MaxNodes = (1 << NodeBits) - 1;

    private const int NodeBits = 21;
    private const long NodeMask = (1L << NodeBits) - 1;

    public static long PairKey(int a, int b)
    {
        Debug.Assert(a != b);
        return a < b ? ((long)a << NodeBits) | (uint)b : ((long)b << NodeBits) | (uint)a;
    }

    public static long TripleKey(int a, int b, int c)
    {
        Debug.Assert(a != b && b != c && a != c);
        if (a > b)
        {
            (a, b) = (b, a);
        }
        if (b > c)
        {
            (b, c) = (c, b);
        }
        if (a > b)
        {
            (a, b) = (b, a);
        }
        return ((long)a << (2 * NodeBits)) | ((long)b << NodeBits) | (uint)c;
    }

    /// <summary>
    /// Counts the losing triples among <paramref name="nodeCount"/> nodes. The arrays hold node numbers and
    /// <see cref="PairKey"/> / <see cref="TripleKey"/> keys, duplicates allowed; they are sorted in place (the
    /// benchmark's are large, so no copies).
    /// </summary>
    public static ThreeNodeLoss Count(int nodeCount, int[] singles, long[] pairs, long[] triples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nodeCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nodeCount, MaxNodes);
        ArgumentNullException.ThrowIfNull(singles);
        ArgumentNullException.ThrowIfNull(pairs);
        ArgumentNullException.ThrowIfNull(triples);

        var lost = new bool[nodeCount];
        int lostCount = 0;
        foreach (int node in singles)
        {
            if (!lost[node])
            {
                lost[node] = true;
                lostCount++;
            }
        }
        long all = Choose3(nodeCount);
        long rest = nodeCount - lostCount;
        long losing = all - Choose3(rest);

        // Bad pairs away from lost singles, deduplicated, as a forward adjacency (each node's higher neighbours, sorted).
        Array.Sort(pairs);
        int pairCount = 0;
        for (int i = 0; i < pairs.Length; i++)
        {
            long key = pairs[i];
            if ((pairCount == 0 || pairs[pairCount - 1] != key) && !lost[(int)(key >> NodeBits)] && !lost[(int)(key & NodeMask)])
            {
                pairs[pairCount++] = key;
            }
        }
        var degree = new int[nodeCount];
        var start = new int[nodeCount + 1];
        for (int i = 0; i < pairCount; i++)
        {
            int a = (int)(pairs[i] >> NodeBits);
            int b = (int)(pairs[i] & NodeMask);
            degree[a]++;
            degree[b]++;
            start[a + 1]++;
        }
        for (int v = 0; v < nodeCount; v++)
        {
            start[v + 1] += start[v];
        }
        var higher = new int[pairCount];
        for (int i = 0; i < pairCount; i++)
        {
            higher[i] = (int)(pairs[i] & NodeMask);
        }

        long wedges = 0;
        foreach (int d in degree)
        {
            wedges += (long)d * (d - 1) / 2;
        }
        long triangles = 0;
        for (int a = 0; a < nodeCount; a++)
        {
            ReadOnlySpan<int> aUp = higher.AsSpan(start[a], start[a + 1] - start[a]);
            foreach (int b in aUp)
            {
                triangles += CommonCount(aUp, higher.AsSpan(start[b], start[b + 1] - start[b]));
            }
        }
        losing += (pairCount * (rest - 2)) - wedges + triangles;

        Array.Sort(triples);
        for (int i = 0; i < triples.Length; i++)
        {
            if (i > 0 && triples[i] == triples[i - 1])
            {
                continue;
            }
            int a = (int)(triples[i] >> (2 * NodeBits));
            int b = (int)((triples[i] >> NodeBits) & NodeMask);
            int c = (int)(triples[i] & NodeMask);
            if (lost[a] || lost[b] || lost[c] || HasPair(higher, start, a, b) || HasPair(higher, start, a, c) || HasPair(higher, start, b, c))
            {
                continue;
            }
            losing++;
        }
        Debug.Assert(losing >= 0 && losing <= all);
        return new ThreeNodeLoss(losing, all);
    }

    // n(n−1)/2 first: n(n−1)(n−2) itself would overflow near MaxNodes, and n(n−1)(n−2)/2 is a multiple of 3.
    private static long Choose3(long n) => n < 3 ? 0 : n * (n - 1) / 2 * (n - 2) / 3;

    private static bool HasPair(int[] higher, int[] start, int a, int b) =>
        higher.AsSpan(start[a], start[a + 1] - start[a]).BinarySearch(b) >= 0;

    private static int CommonCount(ReadOnlySpan<int> x, ReadOnlySpan<int> y)
    {
        int count = 0;
        int i = 0;
        int j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (x[i] == y[j])
            {
                count++;
                i++;
                j++;
            }
            else if (x[i] < y[j])
            {
                i++;
            }
            else
            {
                j++;
            }
        }
        return count;
    }
}
