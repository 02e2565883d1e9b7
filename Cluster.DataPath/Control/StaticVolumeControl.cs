using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Control;

/// <summary>
/// The control callback of static-layout mode (no control plane): it decides locally, fences the
/// legs itself through the engine's links, and persists every new layout to the layout file before
/// answering, so a restarted client never comes back with an older epoch than the targets hold.
/// An operator's debugging tool and the tests' stand-in for the volume entity.
/// </summary>
public sealed class StaticVolumeControl(string? layoutPath, Action<string> log) : IVolumeControl
{
    public VolumeLayout Attach(VolumeLayout requested, ILegFencer fencer)
    {
        // A fresh epoch fences any earlier client of this layout out.
        var unfenced = new HashSet<(int, int)>();
        VolumeLayout layout = FenceActive(requested with { Epoch = requested.Epoch + 1 }, fencer, unfenced);
        for (int g = 0; g < layout.Groups.Length; g++)
        {
            bool served = false;
            for (int l = 0; l < layout.Groups[g].Legs.Length; l++)
            {
                served |= layout.Groups[g].Legs[l].State == LegState.InSync && !unfenced.Contains((g, l));
            }
            if (!served)
            {
                throw new InvalidOperationException($"volume {layout.Name}: group {g} has no reachable in-sync leg; refusing to attach (a stale leg never serves data)");
            }
        }
        Persist(layout);
        return layout;
    }

    public VolumeLayout LegFailed(VolumeLayout current, int group, int leg, WireStatus reason, ILegFencer fencer)
    {
        LegSegment failed = current.Groups[group].Legs[leg];
        if (!failed.Active)
        {
            return current;
        }
        if (failed.State == LegState.InSync && current.Groups[group].InSyncCount == 1)
        {
            log($"volume {current.Name}: group {group} leg {leg} ({failed.Target}) failed ({reason}) but is the last in-sync leg; I/O to it fails until it returns");
            return current;
        }
        VolumeLayout next = FenceActive(current.WithLegState(group, leg, LegState.Stale, current.Epoch + 1), fencer);
        log($"volume {current.Name}: group {group} leg {leg} ({failed.Target}) failed ({reason}): stale at epoch {next.Epoch}");
        Persist(next);
        return next;
    }

    public VolumeLayout LegReturned(VolumeLayout current, int group, int leg, ILegFencer fencer)
    {
        VolumeLayout next = current.WithLegState(group, leg, LegState.Rebuilding, current.Epoch + 1);
        if (fencer.Fence(next, group, leg, next.Epoch) != WireStatus.Ok)
        {
            return current;
        }
        next = FenceActive(next, fencer);
        if (next.Groups[group].Legs[leg].State != LegState.Rebuilding)
        {
            return next;
        }
        log($"volume {current.Name}: group {group} leg {leg} returned: rebuilding at epoch {next.Epoch}");
        Persist(next);
        return next;
    }

    public VolumeLayout LegResynced(VolumeLayout current, int group, int leg, ILegFencer fencer)
    {
        VolumeLayout next = FenceActive(current.WithLegState(group, leg, LegState.InSync, current.Epoch + 1), fencer);
        log($"volume {current.Name}: group {group} leg {leg} in sync at epoch {next.Epoch}");
        Persist(next);
        return next;
    }

    /// <summary>Static mode has no full rebuilds and nobody to resume one: progress is only logged by the engine.</summary>
    public void RebuildProgress(VolumeLayout current, int group, int leg, long doneBytes)
    {
    }

    /// <summary>Nobody else changes a static layout.</summary>
    public VolumeLayout? Refresh(VolumeLayout current) => null;

    /// <summary>Fences every active leg at the layout's epoch; a leg that cannot be fenced becomes stale (unless it is its group's last in-sync leg).</summary>
    private VolumeLayout FenceActive(VolumeLayout layout, ILegFencer fencer, HashSet<(int, int)>? unfenced = null)
    {
        for (int g = 0; g < layout.Groups.Length; g++)
        {
            for (int l = 0; l < layout.Groups[g].Legs.Length; l++)
            {
                LegSegment leg = layout.Groups[g].Legs[l];
                if (!leg.Active)
                {
                    continue;
                }
                WireStatus status = fencer.Fence(layout, g, l, layout.Epoch);
                if (status == WireStatus.Ok)
                {
                    continue;
                }
                bool last = leg.State == LegState.InSync && layout.Groups[g].InSyncCount == 1;
                log($"volume {layout.Name}: cannot fence group {g} leg {l} ({leg.Target}) at epoch {layout.Epoch}: {status}{(last ? " (last in-sync leg: kept)" : "; marking it stale")}");
                unfenced?.Add((g, l));
                if (!last)
                {
                    layout = layout.WithLegState(g, l, LegState.Stale, layout.Epoch);
                }
            }
        }
        return layout;
    }

    private void Persist(VolumeLayout layout)
    {
        if (layoutPath != null)
        {
            layout.Save(layoutPath);
        }
    }
}
