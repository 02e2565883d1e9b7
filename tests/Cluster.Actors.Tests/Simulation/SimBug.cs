namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// Bugs planted on purpose in the simulated client and targets (never in the product's state), to prove the checker
/// catches what it claims to. <see cref="None"/> in every real run.
/// </summary>
[Flags]
public enum SimBug
{
    None = 0,

    /// <summary>The client acknowledges a write once the surviving legs have it, without waiting for the entity's answer to its leg-failure report.</summary>
    ClientAcksBeforeLegFailedAnswer = 1,

    /// <summary>Targets accept writes whatever their epoch and writer (no fence check).</summary>
    TargetIgnoresFences = 2,

    /// <summary>The client reports a returning leg resynced without copying anything.</summary>
    ClientSkipsResyncCopy = 4,

    /// <summary>The client reads from any active leg, rebuilding ones included.</summary>
    ClientReadsRebuildingLegs = 8,

    /// <summary>
    /// The simulated entity actor (not <c>VolumeState</c>) answers with the new layout when the state refused to let a
    /// group's last in-sync leg go as unfenceable, instead of retrying the fence and answering Busy.
    /// </summary>
    EntityAnswersWithUnfencedLegs = 16,

    /// <summary>
    /// The client never reconciles: regions a crashed session (or a failed write) may have left different on the
    /// in-sync legs are only marked clean, which is what the data path's <c>VolumeEngine</c> does today after an attach.
    /// </summary>
    ClientSkipsReconcile = 32,

    /// <summary>
    /// Resync and reconcile copies never set the destination's intent bits, not even for regions a bitmap names (the
    /// data path's <c>VolumeEngine</c> did so before seed 827): a region's only record of having changed can leave with a leg.
    /// </summary>
    ClientCopiesWithoutIntent = 64,
}
