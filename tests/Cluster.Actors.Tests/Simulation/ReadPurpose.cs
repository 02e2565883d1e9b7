namespace Shoal.Actors.Tests.Simulation;

/// <summary>Why a block is read: the checker holds both kinds to "only from a leg in sync at the read's epoch".</summary>
internal enum ReadPurpose
{
    /// <summary>An application read: its value is checked against the history.</summary>
    Application,

    /// <summary>The source side of a resync or reconcile copy.</summary>
    CopySource,
}
