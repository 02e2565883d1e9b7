using System.Globalization;

namespace Shoal.Integration.Tests;

/// <summary>A strict reader of the Prometheus text format for tests: every line must parse, every sample must be declared.</summary>
internal static class Prometheus
{
    public static Dictionary<string, double> Parse(string page)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in page.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                string[] t = line.Split(' ');
                Assert.True(t.Length == 4 && t[3] is "counter" or "gauge" or "histogram", $"bad TYPE line: {line}");
                Assert.True(types.TryAdd(t[2], t[3]), $"family {t[2]} declared twice");
                continue;
            }
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                continue;
            }
            Assert.False(line.StartsWith('#'), $"unknown comment: {line}");
            int space = line.LastIndexOf(' ');
            Assert.True(space > 0, $"no value: {line}");
            string key = line[..space];
            string value = line[(space + 1)..];
            Assert.True(double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || value is "+Inf" or "-Inf" or "NaN", $"bad value: {line}");
            string name = key.Split('{')[0];
            string family = types.ContainsKey(name) ? name : name.EndsWith("_bucket", StringComparison.Ordinal) ? name[..^7]
                : name.EndsWith("_sum", StringComparison.Ordinal) ? name[..^4] : name.EndsWith("_count", StringComparison.Ordinal) ? name[..^6] : name;
            Assert.True(types.ContainsKey(family), $"sample of an undeclared family: {line}");
            Assert.True(samples.TryAdd(key, v), $"sample twice: {key}");
        }
        return samples;
    }

    /// <summary>Buckets cumulative and non-decreasing, +Inf equal to the count, count above zero.</summary>
    public static void AssertHistogram(Dictionary<string, double> samples, string family, string labelsPrefix)
    {
        double[] buckets = [.. samples.Where(kv => kv.Key.StartsWith(family + "_bucket" + labelsPrefix, StringComparison.Ordinal)).Select(kv => kv.Value)];
        Assert.True(buckets.Length > 1, $"{family}: no buckets");
        for (int i = 1; i < buckets.Length; i++)
        {
            Assert.True(buckets[i] >= buckets[i - 1], $"{family}: buckets not cumulative");
        }
        double count = samples[family + "_count" + labelsPrefix + "}"];
        Assert.True(count > 0, $"{family}: count is 0");
        Assert.Equal(count, buckets[^1]);
        Assert.True(samples[family + "_sum" + labelsPrefix + "}"] > 0, $"{family}: sum is 0");
    }
}
