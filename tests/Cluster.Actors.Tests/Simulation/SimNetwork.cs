namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The network between simulated processes: every message gets its own delay (and may be slow, lost, duplicated or
/// cut off by a partition), so messages on different links overtake each other freely. One link from one incarnation
/// of a sender to a receiver keeps its order, as the data path's TCP connections do: a later message never overtakes
/// an earlier one on it, and a duplicate arrives right behind its original. A restarted sender opens new links, which
/// its old incarnation's stragglers may still trail or overtake.
/// </summary>
internal sealed class SimNetwork
{
    /// <summary>Most messages on the wire at once; more are dropped, as by a full socket buffer.</summary>
    public const int MaxInFlight = 4096;

    private readonly Simulator _sim;
    private readonly SimProcess[] _processes;
    private readonly int[,] _cuts;
    private readonly long[,] _lastArrivalMs;
    private readonly int[,] _linkIncarnation;

    public SimNetwork(Simulator sim, int processCount)
    {
        _sim = sim;
        _processes = new SimProcess[processCount];
        _cuts = new int[processCount, processCount];
        _lastArrivalMs = new long[processCount, processCount];
        _linkIncarnation = new int[processCount, processCount];
    }

    public SimFaultPlan Plan { get; set; } = SimFaultPlan.Calm;

    public int InFlight { get; private set; }

    public long Sent { get; private set; }

    public long Lost { get; private set; }

    public long Duplicated { get; private set; }

    public int ProcessCount => _processes.Length;

    public void Register(SimProcess process) => _processes[process.Id] = process;

    public SimProcess Process(int id) => _processes[id];

    /// <summary>Partitions overlap: a link is cut while any partition that cut it lasts.</summary>
    public bool IsCut(int from, int to) => _cuts[from, to] > 0;

    public void Cut(int from, int to) => _cuts[from, to]++;

    public void Uncut(int from, int to) => _cuts[from, to] = Math.Max(0, _cuts[from, to] - 1);

    public void HealAll() => Array.Clear(_cuts);

    public void Send(SimProcess from, int to, object message)
    {
        Sent++;
        if (IsCut(from.Id, to))
        {
            Drop(from.Id, to, message, "partition");
            return;
        }
        if (_sim.Chance(Plan.LossRate))
        {
            Drop(from.Id, to, message, "lost");
            return;
        }
        Enqueue(from, to, message);
        if (_sim.Chance(Plan.DuplicateRate))
        {
            Duplicated++;
            Enqueue(from, to, message);
        }
    }

    private void Enqueue(SimProcess from, int to, object message)
    {
        if (InFlight >= MaxInFlight)
        {
            Drop(from.Id, to, message, "network full");
            return;
        }
        long delayMs = _sim.Chance(Plan.SlowRate)
            ? _sim.Between(Plan.MaxDelayMs, Plan.SlowMaxDelayMs)
            : _sim.Between(SimFaultPlan.MinDelayMs, Plan.MaxDelayMs);
        if (_linkIncarnation[from.Id, to] != from.Incarnation)
        {
            _linkIncarnation[from.Id, to] = from.Incarnation;
            _lastArrivalMs[from.Id, to] = 0;
        }
        // Same arrival time as the previous message on the link still keeps the order: ties run in scheduling order.
        long arrivalMs = Math.Max(_sim.NowMs + delayMs, _lastArrivalMs[from.Id, to]);
        _lastArrivalMs[from.Id, to] = arrivalMs;
        InFlight++;
        int fromId = from.Id;
        _sim.At(arrivalMs - _sim.NowMs, () => Deliver(fromId, to, message));
    }

    private void Deliver(int from, int to, object message)
    {
        InFlight--;
        SimProcess destination = _processes[to];
        if (!destination.Up)
        {
            Drop(from, to, message, "receiver down");
            return;
        }
        if (IsCut(from, to))
        {
            Drop(from, to, message, "partition");
            return;
        }
        _sim.Log($"{_processes[from].Name}->{destination.Name} {message}");
        destination.Receive(from, message);
    }

    private void Drop(int from, int to, object message, string why)
    {
        Lost++;
        _sim.Log($"{_processes[from].Name}->{_processes[to].Name} DROPPED ({why}) {message}");
    }
}
