namespace Shoal.Actors.Placement;

/// <summary>The named maxima of placement, and the argument checks both strategies share.</summary>
internal static class PlacementLimits
{
    /// <summary>Mirror legs per group (mirror:3 is the most the data path builds).</summary>
    public const int MaxLegs = 3;

    /// <summary>Groups per request: 4 TiB of one-segment groups at 64 MiB; larger volumes place in runs.</summary>
    public const int MaxGroupsPerRequest = 1 << 16;

    /// <summary>Segments per leg: 1 PiB at 64 MiB, far past any drive.</summary>
    public const int MaxSegmentsPerLeg = 1 << 24;

    /// <summary>Drives of one class on one node; a larger count is a labelling mistake, not a server.</summary>
    public const int MaxDrivesPerNode = 256;

    /// <summary>Distinct drives that share a segment group with any one drive (issue 3: "a handful of peers").</summary>
    public const int MaxPeersPerDrive = 16;

    public static void Validate(PlacementRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.Groups, 1, nameof(request));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(request.Groups, MaxGroupsPerRequest, nameof(request));
        ValidateShape(request.Legs, request.DriveClass, request.Spread, request.SegmentsPerLeg);
    }

    public static void Validate(ReplacementRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Survivors.IsDefaultOrEmpty || request.Survivors.Length >= MaxLegs)
        {
            throw new ArgumentException($"a replacement needs 1..{MaxLegs - 1} surviving legs", nameof(request));
        }
        for (int i = 0; i < request.Survivors.Length; i++)
        {
            for (int j = i + 1; j < request.Survivors.Length; j++)
            {
                if (request.Survivors[i] == request.Survivors[j])
                {
                    throw new ArgumentException($"drive {request.Survivors[i]} is named twice among the survivors", nameof(request));
                }
            }
        }
        ValidateShape(request.Survivors.Length + 1, request.DriveClass, request.Spread, request.SegmentsPerLeg);
    }

    public static void Validate(PlacementDrive drive)
    {
        ArgumentNullException.ThrowIfNull(drive);
        ArgumentException.ThrowIfNullOrEmpty(drive.DriveClass, nameof(drive));
        ArgumentException.ThrowIfNullOrEmpty(drive.Domain.Node, nameof(drive));
        ArgumentNullException.ThrowIfNull(drive.Domain.Rack, nameof(drive));
        ArgumentNullException.ThrowIfNull(drive.Domain.Zone, nameof(drive));
        ArgumentOutOfRangeException.ThrowIfNegative(drive.TotalSegments, nameof(drive));
        ArgumentOutOfRangeException.ThrowIfNegative(drive.FreeSegments, nameof(drive));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(drive.FreeSegments, drive.TotalSegments, nameof(drive));
    }

    public static string Name(FailureDomainLevel level) => level switch
    {
        FailureDomainLevel.Drive => "drive",
        FailureDomainLevel.Node => "node",
        FailureDomainLevel.Rack => "rack",
        FailureDomainLevel.Zone => "zone",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    private static void ValidateShape(int legs, string driveClass, FailureDomainLevel spread, int segmentsPerLeg)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(legs, 1, nameof(legs));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(legs, MaxLegs, nameof(legs));
        ArgumentException.ThrowIfNullOrEmpty(driveClass);
        if (!Enum.IsDefined(spread))
        {
            throw new ArgumentOutOfRangeException(nameof(spread));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentsPerLeg, 1, nameof(segmentsPerLeg));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(segmentsPerLeg, MaxSegmentsPerLeg, nameof(segmentsPerLeg));
    }
}
