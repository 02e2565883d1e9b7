namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The client's per-region bookkeeping for one segment group, as the engine's <c>RegionTable</c>: I/O in flight, the
/// lock that copies and intent clears take (no application I/O starts in a locked region, and a locker waits for the
/// region to drain), whether the region was written since its intent bits were last cleared, and whether its in-sync
/// legs may disagree (a write that failed, or an attach after a crash) and must be reconciled before it is used again.
/// </summary>
internal sealed class SimRegionTable
{
    private readonly int[] _inflight;
    private readonly bool[] _locked;
    private readonly bool[] _dirty;
    private readonly bool[] _unreconciled;
    private readonly long[] _lastWriteMs;

    public SimRegionTable(int regionCount)
    {
        _inflight = new int[regionCount];
        _locked = new bool[regionCount];
        _dirty = new bool[regionCount];
        _unreconciled = new bool[regionCount];
        _lastWriteMs = new long[regionCount];
    }

    public int Count => _inflight.Length;

    public bool Busy => _inflight.Any(n => n > 0) || _locked.Any(l => l);

    /// <summary>Application I/O may start in the region.</summary>
    public bool Usable(int r) => !_locked[r] && !_unreconciled[r];

    public void Enter(int r, bool write, long nowMs)
    {
        if (!Usable(r))
        {
            throw new InvalidOperationException($"I/O entered region {r} while it is locked or unreconciled");
        }
        _inflight[r]++;
        if (write)
        {
            _dirty[r] = true;
            _lastWriteMs[r] = nowMs;
        }
    }

    public void Exit(int r)
    {
        if (--_inflight[r] < 0)
        {
            throw new InvalidOperationException($"region {r} left more often than entered");
        }
    }

    public bool Drained(int r) => _inflight[r] == 0;

    public bool IsLocked(int r) => _locked[r];

    public void Lock(int r) => _locked[r] = true;

    public void Unlock(int r) => _locked[r] = false;

    public bool IsDirty(int r) => _dirty[r];

    public void MarkDirty(int r) => _dirty[r] = true;

    public void MarkClean(int r) => _dirty[r] = false;

    public bool IsUnreconciled(int r) => _unreconciled[r];

    public void MarkUnreconciled(int r) => _unreconciled[r] = true;

    public void MarkReconciled(int r) => _unreconciled[r] = false;

    public bool Idle(int r, long nowMs, long idleMs) => _inflight[r] == 0 && !_locked[r] && nowMs - _lastWriteMs[r] >= idleMs;

    public ulong DirtyMask => Mask(_dirty);

    public ulong UnreconciledMask => Mask(_unreconciled);

    private static ulong Mask(bool[] bits)
    {
        ulong mask = 0;
        for (int r = 0; r < bits.Length; r++)
        {
            mask |= bits[r] ? 1UL << r : 0;
        }
        return mask;
    }
}
