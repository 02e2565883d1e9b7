using Shoal.DataPath.Transport;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Volume;

/// <summary>The control thread: every failed sub-request is decided here, off the I/O threads.</summary>
public sealed partial class VolumeEngine
{
    private readonly Queue<SubIo> _failures = new();
    private readonly object _failGate = new();
    private readonly ManualResetEventSlim _stop = new();
    private Thread? _controlThread;
    private Thread? _maintenanceThread;
    private volatile bool _stopping;

    private void EnqueueFailure(SubIo sub)
    {
        lock (_failGate)
        {
            _failures.Enqueue(sub);
            Monitor.Pulse(_failGate);
        }
    }

    private void StartThreads()
    {
        _controlThread = new Thread(ControlLoop) { Name = $"shoal-volume-control-{Name}", IsBackground = true };
        _controlThread.Start();
        _maintenanceThread = new Thread(MaintenanceLoop) { Name = $"shoal-volume-maint-{Name}", IsBackground = true };
        _maintenanceThread.Start();
    }

    private void StopThreads()
    {
        _stopping = true;
        _stop.Set();
        lock (_failGate)
        {
            Monitor.PulseAll(_failGate);
        }
        _controlThread?.Join(5000);
        _maintenanceThread?.Join(5000);
    }

    private void ControlLoop()
    {
        while (true)
        {
            SubIo sub;
            lock (_failGate)
            {
                while (_failures.Count == 0)
                {
                    if (_stopping)
                    {
                        return;
                    }
                    Monitor.Wait(_failGate);
                }
                sub = _failures.Dequeue();
            }
            try
            {
                HandleFailure(sub);
            }
            catch (Exception e)
            {
                _log($"volume {Name}: control thread failed on a sub-request: {e}");
                sub.Parent.Errno = EIO;
                Finish(sub);
            }
        }
    }

    private void HandleFailure(SubIo sub)
    {
        IoRequest io = sub.Parent;
        WireStatus failure = sub.Failure;
        sub.Attempts++;
        if (sub.FlushTarget != null)
        {
            HandleFlushFailure(sub, failure);
            return;
        }
        View v = _view;
        bool write = io.Kind != IoKind.Read;
        switch (failure)
        {
            case WireStatus.StaleEpoch:
            case WireStatus.EpochAhead:
                if (sub.Attempts > _options.MaxAttempts)
                {
                    _log($"volume {Name}: group {sub.Group} leg {sub.Leg}: {failure} after {sub.Attempts} attempts; failing the I/O");
                    Fail(sub, EIO);
                    return;
                }
                if (sub.Epoch < v.Layout.Epoch)
                {
                    Resend(sub, v, write);
                    return;
                }
                if (failure == WireStatus.EpochAhead)
                {
                    // The target missed the fence for our epoch (it was away): push it again, then resend.
                    WireStatus fenced;
                    lock (_layoutGate)
                    {
                        v = _view;
                        fenced = Fence(v.Layout, sub.Group, sub.Leg, v.Layout.Epoch);
                    }
                    if (fenced == WireStatus.Ok)
                    {
                        Resend(sub, v, write);
                        return;
                    }
                    LegFailure(sub, fenced, write);
                    return;
                }
                // The control plane fences first and answers after: one of our own control calls may have raised the
                // epoch on the targets before its answer is installed here. Ask before concluding we were fenced out.
                if (_control.Refresh(v.Layout) is { } newer && newer.VolumeId == v.Layout.VolumeId && newer.WriterId == v.Layout.WriterId)
                {
                    lock (_layoutGate)
                    {
                        if (newer.Epoch > _view.Layout.Epoch)
                        {
                            Install(newer);
                        }
                        v = _view;
                    }
                }
                if (sub.Epoch < v.Layout.Epoch)
                {
                    Resend(sub, v, write);
                    return;
                }
                _log($"volume {Name}: group {sub.Group} leg {sub.Leg} is fenced at a newer epoch than ours ({v.Layout.Epoch}): another writer owns the volume");
                Fail(sub, EPERM);
                return;
            case WireStatus.Permission:
                _log($"volume {Name}: group {sub.Group} leg {sub.Leg}: permission refused by the target (segment taken by another writer or volume)");
                Fail(sub, EPERM);
                return;
            case WireStatus.Corrupt when !write:
                // The leg is healthy, one of its blocks is not: read elsewhere, repair it after (never fail the leg).
                Interlocked.Increment(ref _counters.CorruptReplies);
                sub.TriedLegs |= 1 << sub.Leg;
                sub.CorruptLegs |= 1 << sub.Leg;
                ReadFromAnotherLeg(sub, v);
                return;
            case WireStatus.Invalid:
            case WireStatus.Unsupported:
                _log($"volume {Name}: group {sub.Group} leg {sub.Leg}: target rejected the request as {failure}");
                Fail(sub, EIO);
                return;
            default:
                LegFailure(sub, failure, write);
                return;
        }
    }

    private void LegFailure(SubIo sub, WireStatus failure, bool write)
    {
        View v;
        lock (_layoutGate)
        {
            FailLeg(sub.Group, sub.Leg, failure);
            v = _view;
        }
        LegState state = v.Layout.Groups[sub.Group].Legs[sub.Leg].State;
        if (write)
        {
            if (state == LegState.Stale)
            {
                // The leg is out of the layout (durably, at a newer epoch): the write stands on the other legs.
                Finish(sub);
            }
            else
            {
                Fail(sub, EIO);
            }
            return;
        }
        sub.TriedLegs |= 1 << sub.Leg;
        ReadFromAnotherLeg(sub, v);
    }

    /// <summary>Asks the control port to take an active leg out of the layout. Call under the layout gate.</summary>
    private void FailLeg(int group, int leg, WireStatus failure)
    {
        if (_view.Layout.Groups[group].Legs[leg].Active)
        {
            Interlocked.Increment(ref _counters.LegFailures);
            Install(_control.LegFailed(_view.Layout, group, leg, failure, this));
        }
    }

    /// <summary>Sends a read to an in-sync leg it has not tried yet, or fails it when none is left.</summary>
    private void ReadFromAnotherLeg(SubIo sub, View v)
    {
        int next = PickReadLeg(v.Layout, sub.Group, sub.TriedLegs);
        if (next < 0)
        {
            if (sub.CorruptLegs != 0)
            {
                // No leg holds good data for the range: the repair either finds a torn write to rewrite or counts the loss.
                QueueRepair(sub);
            }
            Fail(sub, EIO);
            return;
        }
        sub.Leg = next;
        Dispatch(sub, v);
    }

    private void Resend(SubIo sub, View v, bool write)
    {
        LegState state = v.Layout.Groups[sub.Group].Legs[sub.Leg].State;
        if (write && state == LegState.Stale)
        {
            Finish(sub);
        }
        else if (!write && state != LegState.InSync)
        {
            ReadFromAnotherLeg(sub, v);
        }
        else
        {
            Dispatch(sub, v);
        }
    }

    private void HandleFlushFailure(SubIo sub, WireStatus failure)
    {
        // A target that cannot flush cannot promise its legs hold anything: each of its active legs fails.
        lock (_layoutGate)
        {
            for (int g = 0; g < _view.Layout.Groups.Length; g++)
            {
                for (int l = 0; l < _view.Layout.Groups[g].Legs.Length; l++)
                {
                    if (_view.Layout.Groups[g].Legs[l].Target == sub.FlushTarget)
                    {
                        FailLeg(g, l, failure);
                        if (_view.Layout.Groups[g].Legs[l].State == LegState.InSync)
                        {
                            sub.Parent.Errno = EIO;
                        }
                    }
                }
            }
        }
        Finish(sub);
    }

    private void Fail(SubIo sub, int errno)
    {
        sub.Parent.Errno = errno;
        Finish(sub);
    }
}
