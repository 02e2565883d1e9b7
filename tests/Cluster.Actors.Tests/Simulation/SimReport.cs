namespace Shoal.Actors.Tests.Simulation;

/// <summary>What one run did: its shape, the faults it injected, the I/O it checked, and a fingerprint of its whole trace.</summary>
internal sealed record SimReport(
    int Seed,
    string Geometry,
    string Plan,
    long Steps,
    long VirtualMs,
    long WritesIssued,
    long WritesAcked,
    long WritesFailed,
    long ReadsChecked,
    long ReadsFailed,
    long Partitions,
    long EntityCrashes,
    long ClientCrashes,
    long TargetCrashes,
    long DriveLosses,
    long MessagesSent,
    long MessagesLost,
    long MessagesDuplicated,
    long IoErrorsInjected,
    long EntityCommands,
    long EventsPersisted,
    long EntityRecoveries,
    long MailboxDrops,
    long LegFailuresSeen,
    long FenceRounds,
    long UnfenceableLegs,
    long Replacements,
    long FencePushes,
    long ResyncsDone,
    long RegionsCopied,
    long Reconciles,
    long IntentClears,
    long SessionRestarts,
    long PlannedDetaches,
    long Handovers,
    long ZombieWritesSent,
    long ZombieWritesLanded,
    long ZombieCommandsRefused,
    long TargetReadsChecked,
    long FencesChecked,
    long InvariantSweeps,
    ulong FinalEpoch,
    ulong Fingerprint)
{
    public long Faults => Partitions + EntityCrashes + ClientCrashes + TargetCrashes + DriveLosses + MessagesLost + MessagesDuplicated + IoErrorsInjected;

    public override string ToString() =>
        $"seed {Seed}: {Steps} steps, {VirtualMs} ms virtual; {Geometry}{Environment.NewLine}"
        + $"  plan: {Plan}{Environment.NewLine}"
        + $"  faults: {Partitions} partitions, crashes entity {EntityCrashes} client {ClientCrashes} targets {TargetCrashes}, {DriveLosses} drives lost, "
        + $"{MessagesLost}/{MessagesSent} messages lost, {MessagesDuplicated} duplicated, {IoErrorsInjected} I/O errors{Environment.NewLine}"
        + $"  I/O: {WritesIssued} writes ({WritesAcked} acknowledged, {WritesFailed} failed), {ReadsChecked} reads checked ({ReadsFailed} failed){Environment.NewLine}"
        + $"  entity: {EntityCommands} commands, {EventsPersisted} events journaled, {EntityRecoveries} recoveries by replay, {MailboxDrops} commands dropped by a full mailbox{Environment.NewLine}"
        + $"  recovery: {LegFailuresSeen} leg failures, {FenceRounds} fence rounds, {UnfenceableLegs} unfenceable legs, {Replacements} legs replaced, {FencePushes} fence pushes, "
        + $"{ResyncsDone} resyncs ({RegionsCopied} regions copied), {Reconciles} reconciles, {IntentClears} intent clears, {SessionRestarts} client session restarts ({PlannedDetaches} planned detaches begun, {Handovers} handovers to the zombie){Environment.NewLine}"
        + $"  zombie: {ZombieWritesSent} writes sent, {ZombieWritesLanded} landed (on out-of-sync legs only), {ZombieCommandsRefused} commands refused{Environment.NewLine}"
        + $"  checks: {ReadsChecked} reads against the history, {TargetReadsChecked} target reads against the layout of their epoch, "
        + $"{FencesChecked} fences, {InvariantSweeps} sweeps of every in-sync leg; final epoch {FinalEpoch}; fingerprint {Fingerprint:x16}";
}
