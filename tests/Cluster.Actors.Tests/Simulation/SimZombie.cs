using Shoal.Actors.Protocol;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// A writer that was force-detached but never heard of it: it keeps writing with the layout, epoch and writer id it
/// had, to every leg. It starts as the writer the volume had before the run; a handover fault re-arms it with the
/// client's session of the moment (that session lives on as the zombie while the client attaches anew), so its epoch
/// is a recent one. Its values are negative, so any of them the checker meets in a read or on an in-sync leg is
/// proof that a fence failed. It starts once the client's first attach has been answered (all in-sync legs fenced
/// past its epoch); from then on only a leg that was stale and unreachable at every fence since may take its writes.
/// It also sends the entity the writer's commands (leg failed, returned, resynced, progress, detach) under its old
/// writer id: the entity must refuse every one that would change the volume.
/// </summary>
internal sealed class SimZombie : SimProcess
{
    public const long MinIntervalMs = 3;
    public const long MaxIntervalMs = 30;
    public const long MinCommandIntervalMs = 20;
    public const long MaxCommandIntervalMs = 300;

    /// <summary>Commands whose answers are still awaited (lost ones are forgotten once this many pile up).</summary>
    public const int MaxOpenCommands = 256;

    private readonly Dictionary<long, WriterId> _commandWriters = [];
    private readonly Queue<long> _commandOrder = new();
    private VolumeView _layout;
    private bool _active;
    private int _generation;

    public SimZombie(SimWorld world, int id, string name, VolumeView layout)
        : base(world, id, name)
    {
        _layout = layout;
    }

    public long WritesSent { get; private set; }


    public long CommandsRefused { get; private set; }

    /// <summary>Starts writing (once the client's attach that forced this writer out has been answered).</summary>
    public void Activate()
    {
        if (_active)
        {
            return;
        }
        _active = true;
        int generation = _generation;
        Sim.Log($"{Name} starts writing as w{_layout.Writer.Value} at epoch {_layout.Epoch}");
        After(Sim.Between(MinIntervalMs, MaxIntervalMs), () => Tick(generation));
        After(Sim.Between(MinCommandIntervalMs, MaxCommandIntervalMs), () => CommandTick(generation));
    }

    /// <summary>Becomes the given session (stops writing until <see cref="Activate"/>).</summary>
    public void Rearm(VolumeView layout)
    {
        _generation++;
        _active = false;
        _layout = layout;
        Sim.Log($"{Name} is now the session w{layout.Writer.Value} at epoch {layout.Epoch}");
    }

    public override void Receive(int from, object message)
    {
        switch (message)
        {
            case EntityReply answer when _commandWriters.Remove(answer.RequestId, out WriterId writer):
                if (answer.Reply is VolumeStateReply state && state.View.Writer == writer)
                {
                    throw Sim.Failure("zombie", $"the entity answered the detached writer w{writer.Value} as the volume's writer: {SimText.View(state.View)}");
                }
                CommandsRefused += answer.Reply is VolumeCommandRefused { Code: VolumeRefusal.NotWriter } ? 1 : 0;
                return;
            default:
                return;
        }
    }

    private void CommandTick(int generation)
    {
        if (generation != _generation)
        {
            return;
        }
        After(Sim.Between(MinCommandIntervalMs, MaxCommandIntervalMs), () => CommandTick(generation));
        VolumeName volume = _layout.Volume;
        WriterId writer = _layout.Writer;
        int g = Sim.Random.Next(World.Geometry.GroupCount);
        int l = Sim.Random.Next(World.Geometry.LegCount);
        IVolumeCommand command = Sim.Random.Next(5) switch
        {
            0 => new ReportLegFailed(volume, writer, g, l, "zombie"),
            1 => new ReportLegReturned(volume, writer, g, l),
            2 => new ReportLegResynced(volume, writer, g, l),
            3 => new ReportRebuildProgress(volume, writer, g, l, Sim.Between(0, SimGeometry.SegmentBytes)),
            _ => new DetachVolume(volume, writer),
        };
        long id = World.NextRequestId();
        while (_commandWriters.Count >= MaxOpenCommands && _commandOrder.TryDequeue(out long oldest))
        {
            _commandWriters.Remove(oldest);
        }
        _commandWriters[id] = writer;
        _commandOrder.Enqueue(id);
        Send(World.Entity.Id, new EntityRequest(id, command));
    }

    private void Tick(int generation)
    {
        if (generation != _generation)
        {
            return;
        }
        After(Sim.Between(MinIntervalMs, MaxIntervalMs), () => Tick(generation));
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
