using System.Globalization;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using Shoal.Host.Cli;
using Shoal.Management.Cli;

namespace Shoal.Host.Node;

/// <summary>
/// Parses the command line's volume specs: <c>NAME=concat:SIZE</c>, <c>NAME=stripe:WIDTH:SIZE</c>,
/// <c>NAME=mirror:LEGS:SIZE</c>, <c>NAME=stripe-mirror:WIDTHxLEGS:SIZE</c>.
/// </summary>
internal static class VolumeSpecText
{
    public static (VolumeName Name, VolumeSpec Spec) Parse(string text, string driveClass, FailureDomainLevel spread)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new CliException($"volume '{text}': expected NAME=KIND:...:SIZE");
        }
        string name = text[..eq];
        if (VolumeNameRules.Problem(name) is { } problem)
        {
            throw new CliException(problem);
        }
        string[] parts = text[(eq + 1)..].Split(':');
        int unit = VolumeLayout.DefaultStripeUnitBytes;
        VolumeSpec spec = parts switch
        {
            ["concat", var size] => new VolumeSpec(LayoutKind.Concat, Size(size), 1, 1, unit, driveClass, spread),
            ["stripe", var width, var size] => new VolumeSpec(LayoutKind.Stripe, Size(size), 1, Int(width), unit, driveClass, spread),
            ["mirror", var legs, var size] => new VolumeSpec(LayoutKind.Mirror, Size(size), Int(legs), 1, unit, driveClass, spread),
            ["stripe-mirror", var shape, var size] when shape.Split('x') is [var w, var l] =>
                new VolumeSpec(LayoutKind.StripeMirror, Size(size), Int(l), Int(w), unit, driveClass, spread),
            _ => throw new CliException($"volume '{text}': kind must be concat:SIZE, stripe:WIDTH:SIZE, mirror:LEGS:SIZE or stripe-mirror:WIDTHxLEGS:SIZE"),
        };
        IReadOnlyList<string> errors = spec.Validate();
        if (errors.Count > 0)
        {
            throw new CliException($"volume '{name}': {string.Join("; ", errors)}");
        }
        return (new VolumeName(name), spec);
    }

    private static long Size(string text) => Sizes.Parse(text, "volume size");

    private static int Int(string text) => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : throw new CliException($"'{text}' is not a number");
}
