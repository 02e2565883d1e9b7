using System.Collections.Immutable;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>
/// The drives chosen for a <see cref="PlacementRequest"/>, as <c>Groups[group][leg]</c>, or why none could be chosen.
/// A cluster that is full or has too few failure domains is an answer, not an exception; nothing is reserved then.
/// </summary>
public sealed record PlacementResult
{
    private PlacementResult(ImmutableArray<ImmutableArray<DriveId>> groups, string? failureReason)
    {
        Groups = groups;
        FailureReason = failureReason;
    }

    /// <summary>[group][leg]; empty when the placement failed.</summary>
    public ImmutableArray<ImmutableArray<DriveId>> Groups { get; }

    /// <summary>Null on success.</summary>
    public string? FailureReason { get; }

    public bool Succeeded => FailureReason is null;

    public static PlacementResult Placed(ImmutableArray<ImmutableArray<DriveId>> groups) => new(groups, null);

    public static PlacementResult Failed(string reason) => new([], reason);
}
