using Shoal.Actors.Protocol;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// A writer that was force-detached but never heard of it: it keeps writing with the layout, epoch and writer id it
/// had, to every leg. Its values are negative, so any of them the checker meets in a read or on an in-sync leg is
/// proof that a fence failed. It starts once the client's first attach has been answered (all in-sync legs fenced
/// past its epoch); from then on only a leg that was stale and unreachable at every fence since may take its writes.
/// </summary>
internal sealed class SimZombie : SimProcess
{
    public const long MinIntervalMs = 3;
    public const long MaxIntervalMs = 30;

    private readonly VolumeView _layout;
    private bool _active;

    public SimZombie(SimWorld world, int id, string name, VolumeView layout)
        : base(world, id, name)
    {
        _layout = layout;
    }

    public long WritesSent { get; private set; }

    public long WritesAccepted { get; private set; }

    public void Activate()
    {
        if (_active)
        {
            return;
        }
        _active = true;
        Sim.Log($"{Name} starts writing as w{_layout.Writer.Value} at epoch {_layout.Epoch}");
        After(Sim.Between(MinIntervalMs, MaxIntervalMs), Tick);
    }

    public override void Receive(int from, object message)
    {
        if (message is TargetReply { Status: WireStatus.Ok })
        {
            WritesAccepted++;
        }
    }

    private void Tick()
    {
        After(Sim.Between(MinIntervalMs, MaxIntervalMs), Tick);
        int block = Sim.Random.Next(World.Geometry.BlockCount);
        int g = World.Geometry.GroupOf(block);
        long value = World.Checker.IssueZombieValue();
        WritesSent++;
        foreach (LegInfo leg in _layout.Groups[g].Legs)
        {
            Send(World.ProcessOf(leg.Target), new WriteBlock(World.NextRequestId(), leg.Segment.Segment, _layout.Uid.Value, _layout.Epoch,
                _layout.Writer.Value, World.Geometry.OffsetOf(block), value, MarkIntent: true));
        }
    }
}
