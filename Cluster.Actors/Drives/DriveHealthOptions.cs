namespace Shoal.Actors.Drives;

/// <summary>The drive health clock. Defaults: a heartbeat every 1 s, so 5 s of silence is suspect and 15 s offline.</summary>
public sealed record DriveHealthOptions
{
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan SuspectAfter { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan OfflineAfter { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a drive may stay offline before its legs are rebuilt elsewhere (issue 3: default 10 min).</summary>
    public TimeSpan OutAfter { get; init; } = TimeSpan.FromMinutes(10);

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
        if (FailAfterErrors < 1)
        {
            errors.Add("fail-after-errors must be at least 1");
        }
        return errors;
    }
}
