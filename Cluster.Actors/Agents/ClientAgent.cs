using Akka.Actor;
using Akka.Event;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Nbd;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Agents;

/// <summary>
/// One per client node: owns the node's attached volumes. An attach builds a volume engine over the entity's layout
/// (the engine's attach bumps the epoch through <see cref="ActorVolumeControl"/>) and exports it over NBD; a detach
/// withdraws the export, stops the engine and tells the entity. Engines connect and stop with blocking calls, so
/// that work runs off the actor's thread and comes back as a message; one attach or detach per volume at a time.
/// </summary>
public sealed class ClientAgent : ReceiveActor
{
    /// <summary>The agent's name under /user on every client node; the gateway finds it there.</summary>
    public const string Name = "client-agent";

    private readonly ClientAgentOptions _options;
    private readonly NbdServer _nbd;
    private readonly IActorRef _volumes;
    private readonly IActorRef _directory;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<VolumeName, VolumeEngine> _attached = [];
    /// <summary>The volumes with an attach or detach in progress, and who asked for it.</summary>
    private readonly Dictionary<VolumeName, IActorRef> _busy = [];

    private readonly AttachedEngines? _published;

    public ClientAgent(ClientAgentOptions options, NbdServer nbd, IActorRef volumes, IActorRef directory, AttachedEngines? published = null)
    {
        _options = options;
        _published = published;
        _nbd = nbd;
        _volumes = volumes;
        _directory = directory;
        Receive<AttachLocal>(OnAttach);
        Receive<DetachLocal>(OnDetach);
        Receive<GetLocalVolumes>(_ => Sender.Tell(new LocalVolumes(_options.Node, [.. _attached.Values.Select(Stats)])));
        Receive<Attached>(OnAttached);
        Receive<Detached>(OnDetached);
        Receive<ScrubLocal>(OnScrub);
    }

    private void OnScrub(ScrubLocal command)
    {
        if (!_attached.TryGetValue(command.Volume, out VolumeEngine? engine))
        {
            Sender.Tell(Refused(command.Volume, VolumeRefusal.Conflict, $"volume {command.Volume} is not attached on {_options.Node}; attach it first (a scrub runs in the attached engine)"));
            return;
        }
        bool started = command.Start && engine.StartScrub();
        if (started)
        {
            _log.Info("volume {0}: scrub started on {1}", command.Volume, _options.Node);
        }
        Sender.Tell(new LocalScrub(command.Volume, _options.Node, started, Integrity(engine)));
    }

    private string Uri(VolumeName volume) => string.Format(System.Globalization.CultureInfo.InvariantCulture, _options.NbdUriFormat, volume.Value);

    private void OnAttach(AttachLocal command)
    {
        if (_attached.TryGetValue(command.Volume, out VolumeEngine? engine))
        {
            Sender.Tell(Attachment(command.Volume, engine));
            return;
        }
        if (_busy.ContainsKey(command.Volume))
        {
            Sender.Tell(Refused(command.Volume, VolumeRefusal.Busy, "an attach or detach of this volume is in progress on this node"));
            return;
        }
        if (_attached.Count >= _options.MaxAttached)
        {
            Sender.Tell(Refused(command.Volume, VolumeRefusal.Busy, $"this node has its maximum of {_options.MaxAttached} volumes attached"));
            return;
        }
        _busy[command.Volume] = Sender;
        ClientAgentOptions options = _options;
        IActorRef volumes = _volumes;
        IActorRef directory = _directory;
        Action<string> log = Log;
        Task.Run(() => Attach(options, volumes, directory, command, log)).PipeTo(Self);
    }

    private static Attached Attach(ClientAgentOptions options, IActorRef volumes, IActorRef directory, AttachLocal command, Action<string> log)
    {
        VolumeEngine? engine = null;
        try
        {
            WriterId writer = WriterIds.For(options.DataDir, command.Volume);
            var control = new ActorVolumeControl(command.Volume, options.Node, writer, volumes, directory, options.AskTimeout, log) { Force = command.Force };
            IVolumeReply reply = volumes.Ask<IVolumeReply>(new GetVolume(command.Volume), options.AskTimeout).GetAwaiter().GetResult();
            switch (reply)
            {
                case VolumeCommandRefused r:
                    return new Attached(command.Volume, null, r.Code, r.Reason);
                case VolumeStateReply { View.Status: VolumeStatus.None }:
                    return new Attached(command.Volume, null, VolumeRefusal.NotFound, $"volume {command.Volume} does not exist");
                case VolumeStateReply { View.Status: not VolumeStatus.Ready } r:
                    return new Attached(command.Volume, null, VolumeRefusal.Conflict, $"volume {command.Volume} is {r.View.Status}");
                case VolumeStateReply r:
                    engine = new VolumeEngine(control.ToLayout(r.View), options.Key, control, options.Engine, log);
                    engine.Start();
                    return new Attached(command.Volume, engine, null, null);
                default:
                    return new Attached(command.Volume, null, VolumeRefusal.Busy, $"unexpected answer {reply.GetType().Name}");
            }
        }
        catch (VolumeRefusedException e)
        {
            engine?.Dispose();
            return new Attached(command.Volume, null, e.Code, e.Reason);
        }
        catch (Exception e) when (e is InvalidOperationException or AskTimeoutException or TaskCanceledException or IOException or System.Net.Sockets.SocketException)
        {
            engine?.Dispose();
            return new Attached(command.Volume, null, VolumeRefusal.Busy, e.Message);
        }
    }

    private void OnAttached(Attached result)
    {
        _busy.Remove(result.Volume, out IActorRef? replyTo);
        object reply;
        if (result.Engine is { } engine)
        {
            if (_nbd.AddExport(new NbdExport(result.Volume.Value, engine)))
            {
                _attached[result.Volume] = engine;
                _published?.Add(result.Volume, engine);
                _options.Remember?.Invoke(result.Volume, true);
                _log.Info("volume {0}: attached on {1} at epoch {2}, exported at {3}", result.Volume, _options.Node, engine.Layout.Epoch, Uri(result.Volume));
                reply = Attachment(result.Volume, engine);
            }
            else
            {
                engine.Dispose();
                reply = Refused(result.Volume, VolumeRefusal.Conflict, $"an NBD export named {result.Volume} already exists on this node");
            }
        }
        else
        {
            _log.Warning("volume {0}: attach on {1} refused ({2}): {3}", result.Volume, _options.Node, result.Code, result.Reason);
            reply = Refused(result.Volume, result.Code ?? VolumeRefusal.Busy, result.Reason ?? "attach failed");
        }
        replyTo!.Tell(reply);
    }

    private void OnDetach(DetachLocal command)
    {
        if (_busy.ContainsKey(command.Volume))
        {
            Sender.Tell(Refused(command.Volume, VolumeRefusal.Busy, "an attach or detach of this volume is in progress on this node"));
            return;
        }
        if (!_attached.Remove(command.Volume, out VolumeEngine? engine))
        {
            Sender.Tell(Refused(command.Volume, VolumeRefusal.NotWriter, $"volume {command.Volume} is not attached on {_options.Node}"));
            return;
        }
        _busy[command.Volume] = Sender;
        _published?.Remove(command.Volume);
        _nbd.RemoveExport(command.Volume.Value);
        ClientAgentOptions options = _options;
        IActorRef volumes = _volumes;
        Task.Run(() =>
        {
            WriterId writer = new(engine.Layout.WriterId);
            engine.Dispose();
            try
            {
                IVolumeReply reply = volumes.Ask<IVolumeReply>(new DetachVolume(command.Volume, writer), options.AskTimeout).GetAwaiter().GetResult();
                return new Detached(command.Volume, reply as VolumeCommandRefused);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return new Detached(command.Volume, new VolumeCommandRefused(command.Volume, VolumeRefusal.Busy, "the engine stopped, but the volume entity did not answer the detach: " + e.Message));
            }
        }).PipeTo(Self);
    }

    private void OnDetached(Detached result)
    {
        _busy.Remove(result.Volume, out IActorRef? replyTo);
        _options.Remember?.Invoke(result.Volume, false);
        object reply = result.Refusal is { } r
            ? Refused(result.Volume, r.Code, r.Reason)
            : new LocalDetached(result.Volume, _options.Node);
        _log.Info("volume {0}: detached from {1}{2}", result.Volume, _options.Node, result.Refusal is { } x ? $" (entity: {x.Reason})" : "");
        replyTo!.Tell(reply);
    }

    protected override void PostStop()
    {
        foreach ((VolumeName name, VolumeEngine engine) in _attached)
        {
            _published?.Remove(name);
            _nbd.RemoveExport(name.Value);
            engine.Dispose();
        }
        _attached.Clear();
    }

    private LocalAttachment Attachment(VolumeName volume, VolumeEngine engine) =>
        new(volume, _options.Node, new WriterId(engine.Layout.WriterId), engine.Layout.Epoch, Uri(volume));

    private LocalCommandRefused Refused(VolumeName volume, VolumeRefusal code, string reason) => new(volume, _options.Node, code, reason);

    private LocalVolumeStats Stats(VolumeEngine engine)
    {
        EngineCounters c = engine.Counters;
        return new LocalVolumeStats(
            new VolumeName(engine.Name), engine.Layout.Epoch, Uri(new VolumeName(engine.Name)),
            Interlocked.Read(ref c.Reads), Interlocked.Read(ref c.Writes), Interlocked.Read(ref c.ReadBytes), Interlocked.Read(ref c.WriteBytes),
            Interlocked.Read(ref c.Errors), Interlocked.Read(ref c.LegFailures), Interlocked.Read(ref c.ResyncBytes),
            LatencyBuckets.Of(c.ReadLatency), c.ReadLatency.SumMicros, LatencyBuckets.Of(c.WriteLatency), c.WriteLatency.SumMicros,
            Integrity(engine));
    }

    private static VolumeIntegrity Integrity(VolumeEngine engine)
    {
        EngineCounters c = engine.Counters;
        ScrubStatus s = engine.Scrubbing;
        return new VolumeIntegrity(
            Interlocked.Read(ref c.CorruptReadsServed), Interlocked.Read(ref c.BlocksRepaired), Interlocked.Read(ref c.UnrepairableBlocks),
            s.State.ToString().ToLowerInvariant(), s.Runs, s.ScannedBlocks, s.TotalBlocks, s.BadBlocks, s.RepairedBlocks, s.UnrepairableBlocks,
            s.StartedUnixMs, s.FinishedUnixMs);
    }

    private void Log(string line) => _log.Info("{0}", line);

    private sealed record Attached(VolumeName Volume, VolumeEngine? Engine, VolumeRefusal? Code, string? Reason);

    private sealed record Detached(VolumeName Volume, VolumeCommandRefused? Refusal);
}
