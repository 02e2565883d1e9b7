namespace Shoal.DataPath.Volume;

/// <summary>
/// Per-region bookkeeping of one segment group on the client: writes in flight, whether the region
/// was written since its intent bits were last cleared, and a lock that resync and the intent
/// cleaner take so that no application write interleaves with a region copy or a clear.
/// A writer counts itself in first and then checks the lock; a locker sets the lock first and then
/// waits for the count to drain (both with full fences), so neither can miss the other.
/// </summary>
internal sealed class RegionTable
{
    private readonly int[] _inflight;
    private readonly int[] _locked;
    private readonly long[] _lastWriteMs;
    private readonly int[] _dirty;

    public RegionTable(int regionCount)
    {
        _inflight = new int[regionCount];
        _locked = new int[regionCount];
        _lastWriteMs = new long[regionCount];
        _dirty = new int[regionCount];
    }

    public int Count => _inflight.Length;

    public void EnterWrite(int first, int last)
    {
        long now = Environment.TickCount64;
        for (int r = first; r <= last; r++)
        {
            while (true)
            {
                Interlocked.Increment(ref _inflight[r]);
                if (Volatile.Read(ref _locked[r]) == 0)
                {
                    break;
                }
                Interlocked.Decrement(ref _inflight[r]);
                // The locker waits for writes that may sit in this thread's send batch.
                Transport.FrameSocket.FlushDeferred();
                var spin = default(SpinWait);
                while (Volatile.Read(ref _locked[r]) != 0)
                {
                    spin.SpinOnce(sleep1Threshold: 20);
                }
            }
            Volatile.Write(ref _dirty[r], 1);
            Volatile.Write(ref _lastWriteMs[r], now);
        }
    }

    public void ExitWrite(int first, int last)
    {
        for (int r = first; r <= last; r++)
        {
            Interlocked.Decrement(ref _inflight[r]);
        }
    }

    /// <summary>Locks a region and waits for its writes to finish; false (unlocked again) on timeout.</summary>
    public bool TryLock(int r, int timeoutMs)
    {
        Interlocked.Exchange(ref _locked[r], 1);
        long deadline = Environment.TickCount64 + timeoutMs;
        var spin = default(SpinWait);
        while (Volatile.Read(ref _inflight[r]) != 0)
        {
            if (Environment.TickCount64 > deadline)
            {
                Unlock(r);
                return false;
            }
            spin.SpinOnce(sleep1Threshold: 20);
        }
        return true;
    }

    public void Unlock(int r) => Interlocked.Exchange(ref _locked[r], 0);

    public bool IsDirty(int r) => Volatile.Read(ref _dirty[r]) != 0;

    public void MarkDirty(int r) => Volatile.Write(ref _dirty[r], 1);

    public void MarkClean(int r) => Volatile.Write(ref _dirty[r], 0);

    public bool Idle(int r, long nowMs, int idleMs) =>
        Volatile.Read(ref _inflight[r]) == 0 && nowMs - Volatile.Read(ref _lastWriteMs[r]) >= idleMs;
}
