using System.Globalization;

namespace Shoal.Management.Cli;

/// <summary>Parses sizes such as <c>4096</c>, <c>128KiB</c>, <c>64MiB</c>, <c>1GiB</c>, <c>2TiB</c> (binary units).</summary>
public static class Sizes
{
    public static long Parse(string text, string what)
    {
        string s = text.Trim();
        long multiplier = 1;
        (string Suffix, long Factor)[] units = [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40), ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30), ("T", 1L << 40)];
        foreach ((string suffix, long factor) in units)
        {
            if (s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                multiplier = factor;
                s = s[..^suffix.Length];
                break;
            }
        }
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n <= 0)
        {
            throw new CliException($"{what}: '{text}' is not a positive size (e.g. 4096, 128KiB, 64MiB, 1GiB)");
        }
        try
        {
            return checked(n * multiplier);
        }
        catch (OverflowException)
        {
            throw new CliException($"{what}: '{text}' is too large");
        }
    }
}
