using Shoal.Actors.Placement;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Protocol;

/// <summary>What the operator asked for. <see cref="Legs"/> is 1 for concat and stripe, 2–3 for mirror and stripe+mirror.</summary>
public sealed record VolumeSpec(
    LayoutKind Kind,
    long SizeBytes,
    int Legs,
    int StripeWidth,
    int StripeUnitBytes,
    string DriveClass,
    FailureDomainLevel Spread)
{
    public const long MaxSizeBytes = 1L << 50;
    public const int MaxStripeWidth = 64;

    /// <summary>The problems that make this spec unusable; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (SizeBytes <= 0 || SizeBytes % 4096 != 0 || SizeBytes > MaxSizeBytes)
        {
            errors.Add($"size must be a positive multiple of 4096 bytes up to {MaxSizeBytes} bytes");
        }
        (int minWidth, int maxWidth, int minLegs, int maxLegs) = Kind switch
        {
            LayoutKind.Concat => (1, 1, 1, 1),
            LayoutKind.Stripe => (2, MaxStripeWidth, 1, 1),
            LayoutKind.Mirror => (1, 1, 2, 3),
            LayoutKind.StripeMirror => (2, MaxStripeWidth, 2, 3),
            _ => (0, -1, 0, -1),
        };
        if (maxWidth < 0)
        {
            errors.Add($"unknown layout kind {(int)Kind}");
            return errors;
        }
        if (StripeWidth < minWidth || StripeWidth > maxWidth)
        {
            errors.Add($"{Kind} needs a stripe width of {minWidth}..{maxWidth}, not {StripeWidth}");
        }
        if (Legs < minLegs || Legs > maxLegs)
        {
            errors.Add($"{Kind} needs {minLegs}..{maxLegs} legs, not {Legs}");
        }
        if (StripeUnitBytes < 4096 || StripeUnitBytes % 4096 != 0 || StripeUnitBytes > (64 << 20))
        {
            errors.Add("stripe unit must be a multiple of 4096 bytes up to 64 MiB");
        }
        if (string.IsNullOrWhiteSpace(DriveClass) || DriveClass.Length > 32)
        {
            errors.Add("drive class must be 1-32 characters");
        }
        if (!Enum.IsDefined(Spread))
        {
            errors.Add($"unknown failure domain level {(int)Spread}");
        }
        return errors;
    }

    /// <summary>Number of segment groups needed for <paramref name="sizeBytes"/> with segments of <paramref name="segmentBytes"/>.</summary>
    public int GroupsFor(long sizeBytes, long segmentBytes)
    {
        long setBytes = StripeWidth * segmentBytes;
        long sets = (sizeBytes + setBytes - 1) / setBytes;
        return checked((int)(sets * StripeWidth));
    }
}
