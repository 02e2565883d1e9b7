using Akka.Actor;
using Akka.Hosting;
using Shoal.Actors.Protocol;
using Shoal.Actors.Sharding;

namespace Shoal.Host.Node;

/// <summary>
/// The volume entity's rebuild checkpoints for a node's stats file: what a restarted rebuild resumes from. Asked of the
/// entity (what it persisted), not of the engine (what it reported), with a short timeout: a snapshot taken while the
/// entity is moving between nodes shows null rather than holding the stats file back.
/// </summary>
internal static class RebuildStats
{
    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(2);

    public static object[]? Of(ActorSystem system, string volume)
    {
        try
        {
            IVolumeReply reply = ActorRegistry.For(system).Get<VolumeRegion>()
                .Ask<IVolumeReply>(new GetVolume(new VolumeName(volume)), s_askTimeout).GetAwaiter().GetResult();
            if (reply is not VolumeStateReply { View: var view })
            {
                return null;
            }
            return [.. view.Groups.SelectMany((group, g) => group.Legs.Select((leg, l) => (g, l, leg)))
                .Where(x => x.leg.Rebuild != null)
                .Select(x => new
                {
                    group = x.g,
                    leg = x.l,
                    segment = $"{x.leg.Target}/{x.leg.TargetDrive}/{x.leg.Segment.Segment}",
                    state = x.leg.State.ToString(),
                    kind = x.leg.Rebuild!.Kind.ToString(),
                    doneBytes = x.leg.Rebuild.DoneBytes,
                    totalBytes = x.leg.Rebuild.TotalBytes,
                })];
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return null;
        }
    }
}
