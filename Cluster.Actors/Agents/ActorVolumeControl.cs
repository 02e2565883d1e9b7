using System.Collections.Immutable;
using Akka.Actor;
using Shoal.Actors.Drives;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Control;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Agents;

/// <summary>
/// The client side of the control port: the volume engine's questions become commands to the volume entity, and
/// its answers (after the entity has fenced the legs) become the layouts the engine installs. The engine calls
/// from its control and maintenance threads, never from an I/O thread, so blocking on the answer is fine here.
/// The engine's own fencer is not used: the entity fences through the target agents.
/// </summary>
public sealed class ActorVolumeControl(
    VolumeName volume, NodeId client, WriterId writer, IActorRef volumes, IActorRef directory, TimeSpan timeout, Action<string> log) : IVolumeControl
{
    /// <summary>Set to attach by force (fencing out another writer).</summary>
    public bool Force { get; init; }

    /// <summary>
    /// How long a leg failure waits for the volume entity to answer. The entity may be moving to another node (its
    /// node just died too): the writes wait meanwhile rather than fail, as a local drive's would during a path failover.
    /// </summary>
    public TimeSpan LegFailureWait { get; init; } = TimeSpan.FromMinutes(2);

    public VolumeLayout Attach(VolumeLayout requested, ILegFencer fencer) =>
        Ask(new AttachVolume(volume, client, writer, AttachMode.ReadWrite, Force)) switch
        {
            VolumeStateReply r => ToLayout(r.View),
            VolumeCommandRefused r => throw new VolumeRefusedException(volume, r.Code, r.Reason),
            var other => throw new InvalidOperationException($"volume {volume}: unexpected answer {other}"),
        };

    public VolumeLayout LegFailed(VolumeLayout current, int group, int leg, WireStatus reason, ILegFencer fencer) =>
        Answer(current, new ReportLegFailed(volume, writer, group, leg, reason.ToString(), At(current, group, leg)), LegFailureWait);

    public VolumeLayout LegReturned(VolumeLayout current, int group, int leg, ILegFencer fencer) =>
        Answer(current, new ReportLegReturned(volume, writer, group, leg, At(current, group, leg)));

    public VolumeLayout LegResynced(VolumeLayout current, int group, int leg, ILegFencer fencer) =>
        Answer(current, new ReportLegResynced(volume, writer, group, leg, At(current, group, leg)));

    /// <summary>Recorded by the entity without an answer awaited: a lost checkpoint only means a little more copying after a crash.</summary>
    public void RebuildProgress(VolumeLayout current, int group, int leg, long doneBytes) =>
        volumes.Tell(new ReportRebuildProgress(volume, writer, group, leg, doneBytes, At(current, group, leg)));

    private static LegAddress At(VolumeLayout layout, int group, int leg) => LegAddress.Of(layout.Groups[group].Legs[leg]);

    public VolumeLayout? Refresh(VolumeLayout current)
    {
        try
        {
            // Only a layout that still names this engine as the writer: after a forced attach elsewhere this
            // engine is fenced, and must stay so.
            return Ask(new GetVolume(volume)) is VolumeStateReply { View: { Status: VolumeStatus.Ready } view } && view.Writer == writer && view.Epoch > current.Epoch
                ? ToLayout(view)
                : null;
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
        {
            log($"volume {volume}: refresh got no answer: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// The entity's new layout, or <paramref name="current"/> unchanged when it refused (the engine then fails the I/O
    /// or retries later). Without an answer it asks again until <paramref name="wait"/> has passed.
    /// </summary>
    private VolumeLayout Answer(VolumeLayout current, IVolumeCommand command, TimeSpan wait = default)
    {
        long deadline = Environment.TickCount64 + (long)wait.TotalMilliseconds;
        while (true)
        {
            try
            {
                switch (Ask(command))
                {
                    case VolumeStateReply r:
                        return ToLayout(r.View);
                    case VolumeCommandRefused r:
                        log($"volume {volume}: {command.GetType().Name} refused ({r.Code}): {r.Reason}");
                        return current;
                }
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException or InvalidOperationException)
            {
                if (Environment.TickCount64 >= deadline)
                {
                    log($"volume {volume}: {command.GetType().Name} got no answer: {e.Message}");
                    return current;
                }
                log($"volume {volume}: the volume entity does not answer {command.GetType().Name} yet; waiting");
            }
        }
    }

    private IVolumeReply Ask(IVolumeCommand command) => volumes.Ask<IVolumeReply>(command, timeout).GetAwaiter().GetResult();

    /// <summary>Turns the entity's view into the data path's layout, with every leg's target endpoint from the drive directory.</summary>
    public VolumeLayout ToLayout(VolumeView view)
    {
        if (view.Status != VolumeStatus.Ready || view.Spec == null)
        {
            throw new InvalidOperationException($"volume {volume} is {view.Status}");
        }
        ImmutableArray<DriveId> drives = [.. view.Groups.SelectMany(g => g.Legs).Select(l => l.Segment.Drive).Distinct()];
        ResolvedDrives resolved = directory.Ask<ResolvedDrives>(new ResolveDrives(drives), timeout).GetAwaiter().GetResult();
        var targets = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (LegInfo leg in view.Groups.SelectMany(g => g.Legs))
        {
            if (!resolved.Views.TryGetValue(leg.Segment.Drive, out DriveView? drive) || drive.Inventory == null)
            {
                throw new InvalidOperationException($"volume {volume}: drive {leg.Segment.Drive} is unknown to this node's directory");
            }
            targets[leg.Target.Value] = drive.Inventory.DataEndpoint;
        }
        return new VolumeLayout
        {
            Name = view.Volume.Value,
            VolumeId = view.Uid.Value,
            SizeBytes = view.Spec.SizeBytes,
            Kind = view.Spec.Kind,
            StripeWidth = view.Spec.StripeWidth,
            StripeUnitBytes = view.Spec.StripeUnitBytes,
            SegmentBytes = view.SegmentBytes,
            RegionBytes = view.RegionBytes,
            Epoch = view.Epoch,
            WriterId = writer.Value,
            Targets = targets.ToImmutable(),
            Groups = [.. view.Groups.Select(g => new SegmentGroup([.. g.Legs.Select(l => new LegSegment(l.Target.Value, l.TargetDrive, l.Segment.Segment, l.State)
            {
                RebuildFromBytes = l is { State: LegState.Rebuilding, Rebuild: { Kind: RebuildKind.Full } r } ? r.DoneBytes : null,
            })]))],
        };
    }
}
