namespace Shoal.DataPath.Volume;

public enum LegState
{
    /// <summary>Holds every acknowledged write: serves reads, must acknowledge every write.</summary>
    InSync,

    /// <summary>Missed writes: serves nothing, receives nothing, until it is resynced.</summary>
    Stale,

    /// <summary>Catching up: receives new writes, serves no reads, does not hold acknowledgements back.</summary>
    Rebuilding,
}
