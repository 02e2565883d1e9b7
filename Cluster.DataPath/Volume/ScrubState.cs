namespace Shoal.DataPath.Volume;

public enum ScrubState
{
    /// <summary>No scrub has run since the volume was attached here.</summary>
    Never = 0,

    /// <summary>Asked for; starts on the engine's maintenance thread.</summary>
    Queued = 1,

    Running = 2,

    Done = 3,

    /// <summary>Stopped before the end (the engine stopped, or no in-sync leg could be read); counts are partial.</summary>
    Stopped = 4,
}
