namespace Shoal.Actors.Tests.Simulation;

/// <summary>One simulation run: the seed everything derives from, the length of its fault phase and any planted bugs.</summary>
/// <param name="ObservableChecksOnly">
/// Only what a user of the volume could observe is checked (reads, convergence, liveness): the checks that look
/// inside the targets and the journal (ack, lost-write, stale-read, zombie) are off. Used to show the observable
/// checks catch the planted bugs on their own.
/// </param>
internal sealed record SimOptions(int Seed, long ChaosSteps, SimBug Bugs = SimBug.None, bool ObservableChecksOnly = false)
{
    /// <summary>Fault-phase steps of a CI seed (one step is one delivered message or fired timer).</summary>
    public const long DefaultChaosSteps = 40_000;

    /// <summary>Steps allowed after the fault phase for healing, quiescing and the final sweep; running out is a liveness failure.</summary>
    public const long MaxSettleSteps = 400_000;

    /// <summary>Longest fault phase a replay may ask for.</summary>
    public const long MaxChaosSteps = 50_000_000;

    public long MaxSteps => ChaosSteps + MaxSettleSteps;
}
