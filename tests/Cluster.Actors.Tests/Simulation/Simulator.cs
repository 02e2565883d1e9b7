namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The discrete-event core: a virtual clock, one queue of timed events and the run's one <see cref="System.Random"/>.
/// Events at the same instant run in the order they were scheduled, so a run is a pure function of its seed.
/// </summary>
internal sealed class Simulator
{
    /// <summary>Most events (timers and messages) that may wait at once.</summary>
    public const int MaxQueuedEvents = 100_000;

    private readonly PriorityQueue<Action, (long AtMs, long Seq)> _events = new();
    private long _seq;

    public Simulator(SimOptions options)
    {
        Options = options;
        Random = new Random(options.Seed);
    }

    public SimOptions Options { get; }

    /// <summary>The only source of randomness in the run.</summary>
    public Random Random { get; }

    public long NowMs { get; private set; }

    public long Step { get; private set; }

    public SimTrace Trace { get; } = new();

    public int Queued => _events.Count;

    /// <summary>Wall-clock stand-in for the product's <c>DateTimeOffset</c> arguments: a fixed origin plus virtual time.</summary>
    public DateTimeOffset Now => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMilliseconds(NowMs);

    public void At(long delayMs, Action action)
    {
        if (delayMs < 0)
        {
            throw Failure("limits", $"an event was scheduled {delayMs} ms in the past");
        }
        if (_events.Count >= MaxQueuedEvents)
        {
            throw Failure("limits", $"more than {MaxQueuedEvents} events queued");
        }
        _events.Enqueue(action, (NowMs + delayMs, _seq++));
    }

    /// <summary>Runs the next event; false when nothing is left to run.</summary>
    public bool RunNext()
    {
        if (!_events.TryDequeue(out Action? action, out (long AtMs, long Seq) when))
        {
            return false;
        }
        if (when.AtMs < NowMs)
        {
            throw Failure("limits", $"the clock would go back from {NowMs} to {when.AtMs} ms");
        }
        NowMs = when.AtMs;
        Step++;
        action();
        return true;
    }

    public bool Chance(double probability) => probability > 0 && Random.NextDouble() < probability;

    /// <summary>A uniform integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public long Between(long min, long max) => Random.NextInt64(min, max + 1);

    public T Pick<T>(IReadOnlyList<T> items) => items[Random.Next(items.Count)];

    public void Log(string text) => Trace.Add(Step, NowMs, text);

    public SimulationFailure Failure(string check, string detail) => new(Options, Step, NowMs, check, detail, Trace.Last(50));
}
