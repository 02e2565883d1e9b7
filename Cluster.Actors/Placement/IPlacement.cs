using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>
/// Chooses drives for new segment groups and for replacement legs, over a view of the drives that the control plane
/// keeps current (from the drive entities). Placing reserves capacity in the view, so consecutive placements see each
/// other; the drive entity then allocates the concrete segments. Not thread-safe: one owner (an actor) calls it.
/// </summary>
public interface IPlacement
{
    /// <summary>Places every group or none: on failure nothing stays reserved.</summary>
    PlacementResult Place(PlacementRequest request);

    /// <summary>Chooses one drive for a new leg of an existing group and reserves its segments.</summary>
    ReplacementResult PlaceReplacement(ReplacementRequest request);

    /// <summary>Adds a drive, or updates its capacity and labels. The given free count replaces the view's.</summary>
    void UpsertDrive(PlacementDrive drive);

    /// <summary>Forgets a drive (failed for good, or removed). False when it was not in the view.</summary>
    bool RemoveDrive(DriveId drive);

    /// <summary>Returns segments freed on a drive (a volume deleted or shrunk, a leg moved away). False when the drive is not in the view.</summary>
    bool Release(DriveId drive, int segments);
}
