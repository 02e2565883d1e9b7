namespace Shoal.Bench;

/// <summary>One shoal stats-file snapshot: the process's GC and allocation totals and its I/O counters.</summary>
internal readonly record struct StatsSnapshot(long Gen0Collections, long AllocatedBytes, long CpuMicros, long Reads, long Writes);
