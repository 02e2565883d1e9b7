namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The last <see cref="Capacity"/> things that happened, for the failure report, and a fingerprint over everything that
/// happened, so two runs of one seed can be compared line for line without keeping the lines.
/// </summary>
internal sealed class SimTrace
{
    public const int Capacity = 64;

    private readonly string[] _lines = new string[Capacity];
    private long _count;
    private ulong _fingerprint = 14695981039346656037UL; // FNV-1a offset basis

    public ulong Fingerprint => _fingerprint;

    public long Count => _count;

    /// <summary>Receives every line as it is added (a replay's full trace file); null in CI runs.</summary>
    public Action<string>? Sink { get; set; }

    public void Add(long step, long nowMs, string text)
    {
        string line = $"#{step} {nowMs}ms {text}";
        _lines[_count % Capacity] = line;
        _count++;
        Sink?.Invoke(line);
        foreach (char c in line)
        {
            _fingerprint = (_fingerprint ^ c) * 1099511628211UL;
        }
    }

    /// <summary>The kept lines, oldest first.</summary>
    public IReadOnlyList<string> Last(int count)
    {
        int kept = (int)Math.Min(Math.Min(_count, Capacity), count);
        var lines = new List<string>(kept);
        for (long i = _count - kept; i < _count; i++)
        {
            lines.Add(_lines[i % Capacity]);
        }
        return lines;
    }
}
