using System.Globalization;

namespace Shoal.Bench.Shared;

/// <summary>The benchmarks' command line: <c>--key value</c> or <c>--key=value</c>, each known key at most once.</summary>
internal static class BenchArgs
{
    /// <summary>The options by key; null when help was asked for. Throws <see cref="UsageException"/> on anything else.</summary>
    public static Dictionary<string, string>? Parse(IReadOnlyList<string> args, IReadOnlyCollection<string> known)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a is "--help" or "-h" or "help")
            {
                return null;
            }
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                throw new UsageException($"unexpected argument '{a}'");
            }
            string key = a[2..];
            string? value = null;
            int eq = key.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = key[(eq + 1)..];
                key = key[..eq];
            }
            if (!known.Contains(key))
            {
                throw new UsageException($"unknown option '--{key}'");
            }
            if (value == null)
            {
                if (i + 1 >= args.Count)
                {
                    throw new UsageException($"--{key} needs a value");
                }
                value = args[++i];
            }
            if (!values.TryAdd(key, value))
            {
                throw new UsageException($"--{key} given twice");
            }
        }
        return values;
    }

    public static int Int(Dictionary<string, string> values, string key, int fallback, int min, int max)
    {
        if (!values.TryGetValue(key, out string? text))
        {
            return fallback;
        }
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new UsageException($"--{key} must be an integer from {min} to {max}, not '{text}'");
        }
        return value;
    }
}
