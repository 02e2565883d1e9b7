namespace Shoal.Actors.Drives;

/// <summary>The drive health clock. Defaults: a heartbeat every 1 s, so 5 s of silence is suspect and 15 s offline.</summary>
public sealed record DriveHealthOptions
{
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan SuspectAfter { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan OfflineAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a drive may stay offline before its legs are rebuilt elsewhere (issue 3: default 10 min).</summary>
    public TimeSpan OutAfter { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Longest a drive stays in maintenance (its node's planned restart) with its out-after clock held. A node that has
    /// not come back by then is treated as if maintenance had never been entered: out-after counts from when the
    /// drive went offline, so the legs on it are rebuilt elsewhere. Default 1 h.
    /// </summary>
    public TimeSpan MaintenanceWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Data-path errors, counted over the drive's life in the cluster, after which it is declared failed.</summary>
    public int FailAfterErrors { get; init; } = 8;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (HeartbeatInterval <= TimeSpan.Zero)
        {
            errors.Add("heartbeat interval must be positive");
        }
        if (SuspectAfter <= HeartbeatInterval)
        {
            errors.Add("suspect-after must be longer than the heartbeat interval");
        }
        if (OfflineAfter <= SuspectAfter)
        {
            errors.Add("offline-after must be longer than suspect-after");
        }
        if (OutAfter <= TimeSpan.Zero)
        {
            errors.Add("out-after must be positive");
        }
        if (MaintenanceWindow <= TimeSpan.Zero)
        {
            errors.Add("maintenance window must be positive");
        }
        if (FailAfterErrors < 1)
        {
            errors.Add("fail-after-errors must be at least 1");
        }
        return errors;
    }
}
