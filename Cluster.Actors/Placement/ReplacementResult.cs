using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>The drive chosen for a <see cref="ReplacementRequest"/>, or why none could be chosen.</summary>
public sealed record ReplacementResult
{
    private ReplacementResult(DriveId drive, string? failureReason)
    {
        Drive = drive;
        FailureReason = failureReason;
    }

    /// <summary>The new leg's drive; default when the replacement failed.</summary>
    public DriveId Drive { get; }

    /// <summary>Null on success.</summary>
    public string? FailureReason { get; }

    public bool Succeeded => FailureReason is null;

    public static ReplacementResult Placed(DriveId drive) => new(drive, null);

    public static ReplacementResult Failed(string reason) => new(default, reason);
}
