using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Control;

/// <summary>
/// The data path's control port for one attached volume: the volume engine asks, the control plane
/// decides. Every answer that changes the layout carries a higher epoch, and the control plane has
/// fenced the legs at that epoch (durably, on their targets) before it answers. Calls are serialized
/// by the engine and may block (they are never made on an I/O thread's hot path).
/// </summary>
public interface IVolumeControl
{
    /// <summary>The volume is being attached by this engine: claim its legs at a new epoch. Throws when it cannot be served.</summary>
    VolumeLayout Attach(VolumeLayout requested, ILegFencer fencer);

    /// <summary>
    /// A leg failed I/O (<paramref name="reason"/>). Answer with a layout in which it is no longer
    /// in-sync — pending writes are acknowledged on the other legs only after this returns — or with
    /// the leg still in-sync when it was the group's last in-sync leg, in which case the I/O fails.
    /// </summary>
    VolumeLayout LegFailed(VolumeLayout current, int group, int leg, WireStatus reason, ILegFencer fencer);

    /// <summary>A stale leg's target answers again: answer with it Rebuilding (fenced), or unchanged to leave it stale.</summary>
    VolumeLayout LegReturned(VolumeLayout current, int group, int leg, ILegFencer fencer);

    /// <summary>A rebuilding leg has caught up: answer with it in-sync.</summary>
    VolumeLayout LegResynced(VolumeLayout current, int group, int leg, ILegFencer fencer);

    /// <summary>
    /// Checkpoint of a rebuilding leg: every region below <paramref name="doneBytes"/> of its segment is copied. The
    /// control plane records it so a rebuild resumes from there after a crash. Must not block for long.
    /// </summary>
    void RebuildProgress(VolumeLayout current, int group, int leg, long doneBytes);

    /// <summary>
    /// Asked periodically: a newer layout the control plane decided on its own (a lost drive's leg replaced by a new
    /// segment to rebuild), with this engine still the writer; null when there is none.
    /// </summary>
    VolumeLayout? Refresh(VolumeLayout current);
}
