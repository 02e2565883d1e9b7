using System.Diagnostics;

namespace Shoal.DataPath.Volume;

/// <summary>
/// I/O latency in fixed buckets (upper bounds 16 µs … 4 s, doubling, plus one overflow bucket), counted with
/// Interlocked so any completing thread may record without a lock or an allocation. Read by metrics as cumulative
/// Prometheus buckets.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Upper bound of bucket i in microseconds is <c>16 &lt;&lt; i</c>; the last bucket has no bound.</summary>
    public const int BoundedBuckets = 19;

    private readonly long[] _counts = new long[BoundedBuckets + 1];
    private long _sumMicros;

    /// <summary>Upper bound in seconds of bucket <paramref name="bucket"/> (bounded buckets only).</summary>
    public static double UpperBoundSeconds(int bucket) => (16L << bucket) / 1e6;

    public void Record(long startTimestamp)
    {
        long micros = (long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds;
        int bucket = 0;
        while (bucket < BoundedBuckets && micros > (16L << bucket))
        {
            bucket++;
        }
        Interlocked.Increment(ref _counts[bucket]);
        Interlocked.Add(ref _sumMicros, micros);
    }

    /// <summary>Count of bucket <paramref name="bucket"/> alone (0..<see cref="BoundedBuckets"/>, the last is overflow).</summary>
    public long Count(int bucket) => Interlocked.Read(ref _counts[bucket]);

    public long SumMicros => Interlocked.Read(ref _sumMicros);

    public long Total
    {
        get
        {
            long total = 0;
            for (int i = 0; i <= BoundedBuckets; i++)
            {
                total += Count(i);
            }
            return total;
        }
    }
}
