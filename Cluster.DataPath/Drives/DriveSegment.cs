namespace Shoal.DataPath.Drives;

/// <summary>
/// In-memory image of one segment's metadata block plus the bookkeeping that makes fences safe:
/// a write passes its fence check and is counted in-flight under <see cref="Gate"/>; a fence bumps
/// <see cref="Generation"/> and waits until the writes admitted under the previous generation have
/// finished, so no write of an older epoch can land after a fence was acknowledged.
/// </summary>
public sealed class DriveSegment
{
    private readonly int[] _inflight = new int[2];

    internal DriveSegment(int index, int regionCount)
    {
        Index = index;
        RegionCount = regionCount;
        Bitmap = new ulong[(regionCount + 63) / 64];
    }

    public int Index { get; }

    public int RegionCount { get; }

    internal object Gate { get; } = new();

    internal object FenceGate { get; } = new();

    public ulong VolumeId { get; internal set; }

    public ulong Epoch { get; internal set; }

    public ulong WriterId { get; internal set; }

    public uint LegIndex { get; internal set; }

    /// <summary>True when the metadata block failed its checksum: the segment serves nothing until re-fenced with force.</summary>
    public bool Corrupt { get; internal set; }

    internal ulong[] Bitmap { get; }

    /// <summary>
    /// The segment's block CRC table (see <see cref="BlockChecksums"/>), loaded when the segment is first owned;
    /// null on drives without checksums and on segments no volume has owned since the drive was opened.
    /// </summary>
    internal uint[]? Crcs { get; set; }

    internal int Generation { get; set; }

    /// <summary>A copy of the write-intent bitmap.</summary>
    public ulong[] SnapshotBitmap()
    {
        lock (Gate)
        {
            return (ulong[])Bitmap.Clone();
        }
    }

    public int DirtyRegionCount()
    {
        lock (Gate)
        {
            int n = 0;
            foreach (ulong w in Bitmap)
            {
                n += System.Numerics.BitOperations.PopCount(w);
            }
            return n;
        }
    }

    /// <summary>Counts a write in flight under the current generation; call under <see cref="Gate"/>.</summary>
    internal int EnterWrite()
    {
        int generation = Generation;
        Interlocked.Increment(ref _inflight[generation & 1]);
        return generation;
    }

    internal void ExitWrite(int generation) => Interlocked.Decrement(ref _inflight[generation & 1]);

    internal int InflightOf(int generation) => Volatile.Read(ref _inflight[generation & 1]);
}
