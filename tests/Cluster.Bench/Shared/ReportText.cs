namespace Shoal.Bench.Shared;

/// <summary>
/// The marked parts of <c>docs/benchmarks.md</c> that survive a rerun: each benchmark rewrites its own part and keeps
/// the analysis between its notes markers; the data-path harness also keeps the placement section.
/// </summary>
internal static class ReportText
{
    public const string PlacementBegin = "<!-- placement:begin -->";
    public const string PlacementEnd = "<!-- placement:end -->";

    /// <summary>The text between <paramref name="start"/> and <paramref name="end"/> (markers too when asked), or null when either is missing.</summary>
    public static string? Between(string text, string start, string end, bool withMarkers = false)
    {
        int from = text.IndexOf(start, StringComparison.Ordinal);
        if (from < 0)
        {
            return null;
        }
        int to = text.IndexOf(end, from + start.Length, StringComparison.Ordinal);
        if (to < 0)
        {
            return null;
        }
        return withMarkers ? text[from..(to + end.Length)] : text[(from + start.Length)..to];
    }
}
