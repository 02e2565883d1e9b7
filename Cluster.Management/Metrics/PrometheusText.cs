using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Shoal.DataPath.Volume;

namespace Shoal.Management.Metrics;

/// <summary>Writes the Prometheus text exposition format (version 0.0.4): one HELP and TYPE per family, then its samples.</summary>
public sealed class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();
    private readonly HashSet<string> _declared = [];

    public override string ToString() => _text.ToString();

    public void Counter(string name, string help, long value, params (string Name, string Value)[] labels) =>
        Sample(name, "counter", help, name, value.ToString(CultureInfo.InvariantCulture), labels);

    public void Gauge(string name, string help, double value, params (string Name, string Value)[] labels) =>
        Sample(name, "gauge", help, name, Number(value), labels);

    /// <summary>A latency histogram from per-bucket counts (bounds 16 µs &lt;&lt; i, the last unbounded), written cumulative in seconds.</summary>
    public void Histogram(string name, string help, ImmutableArray<long> buckets, long sumMicros, params (string Name, string Value)[] labels)
    {
        Declare(name, "histogram", help);
        long cumulative = 0;
        for (int i = 0; i < buckets.Length; i++)
        {
            cumulative += buckets[i];
            string le = i < LatencyHistogram.BoundedBuckets ? Number(LatencyHistogram.UpperBoundSeconds(i)) : "+Inf";
            Line(name + "_bucket", cumulative.ToString(CultureInfo.InvariantCulture), [.. labels, ("le", le)]);
        }
        Line(name + "_sum", Number(sumMicros / 1e6), labels);
        Line(name + "_count", cumulative.ToString(CultureInfo.InvariantCulture), labels);
    }

    private void Sample(string family, string type, string help, string name, string value, (string Name, string Value)[] labels)
    {
        Declare(family, type, help);
        Line(name, value, labels);
    }

    private void Declare(string family, string type, string help)
    {
        if (_declared.Add(family))
        {
            _text.Append("# HELP ").Append(family).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
            _text.Append("# TYPE ").Append(family).Append(' ').Append(type).Append('\n');
        }
    }

    private void Line(string name, string value, (string Name, string Value)[] labels)
    {
        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (i > 0)
                {
                    _text.Append(',');
                }
                _text.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(value).Append('\n');
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
