namespace Shoal.Actors.Protocol;

/// <summary>A drive's health (DESIGN.md §4): online → suspect → offline → out → failed / removed.</summary>
public enum DriveStatus
{
    /// <summary>No target has registered the drive yet.</summary>
    Unregistered,

    /// <summary>Heartbeats arrive and the data path reports no errors: new segments may be placed here.</summary>
    Online,

    /// <summary>A heartbeat is late or the data path reported an error: no new segments, legs stay as they are.</summary>
    Suspect,

    /// <summary>Unreachable (heartbeats stopped or its node left the cluster): the out-after clock runs.</summary>
    Offline,

    /// <summary>Offline longer than out-after: its legs are rebuilt elsewhere. It may come back as empty capacity.</summary>
    Out,

    /// <summary>Declared broken (repeated errors or the operator): never used again until removed.</summary>
    Failed,

    /// <summary>Taken out of the cluster for good.</summary>
    Removed,
}
