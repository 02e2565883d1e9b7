using Shoal.Actors.Protocol;

namespace Shoal.Actors.Placement;

/// <summary>One drive in the <see cref="PlacementView"/>'s table; slots of removed drives are reused.</summary>
internal struct DriveSlot
{
    public DriveId Id;
    public int Node;
    public int Class;
    public int TotalSegments;
    public int FreeSegments;
    public bool Live;

    /// <summary>Free share in <see cref="PlacementView.FractionScale"/> units: the balance key (larger is emptier).</summary>
    public readonly long FreeFraction => TotalSegments == 0 ? 0 : (long)FreeSegments * PlacementView.FractionScale / TotalSegments;
}
