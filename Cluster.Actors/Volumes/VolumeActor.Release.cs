using System.Collections.Immutable;
using Akka.Actor;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Volumes;

// Giving segments back: the volume records them as releasing, asks each drive entity to take them back, and
// forgets them once the drive entity has durably accepted (the drive keeps them reserved until its target wipes them).
public sealed partial class VolumeActor
{
    private void StartRelease()
    {
        if (_releaseInFlight || _state.Releasing.IsEmpty)
        {
            return;
        }
        _releaseInFlight = true;
        ReleaseAsync(_state.Releasing, _state.Uid).PipeTo(Self, success: acknowledged => new ReleaseDone(acknowledged));
    }

    private async Task<ImmutableArray<SegmentRef>> ReleaseAsync(ImmutableArray<SegmentRef> segments, VolumeUid uid)
    {
        var acknowledged = ImmutableArray.CreateBuilder<SegmentRef>();
        foreach (IGrouping<DriveId, SegmentRef> byDrive in segments.GroupBy(s => s.Drive))
        {
            try
            {
                IDriveReply reply = await _drives.Ask<IDriveReply>(new ReleaseSegments(byDrive.Key, uid, [.. byDrive.Select(s => s.Segment)]), _options.AskTimeout).ConfigureAwait(false);
                // A refusal here means a segment already belongs to someone else: it was freed long ago.
                if (reply is DriveStateReply || reply is DriveCommandRefused { Reason: var r } && r.Contains("belongs to", StringComparison.Ordinal))
                {
                    acknowledged.AddRange(byDrive);
                }
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                // Retried on the next tick.
            }
        }
        return acknowledged.ToImmutable();
    }

    private void OnReleaseDone(ReleaseDone done)
    {
        _releaseInFlight = false;
        if (!done.Acknowledged.IsEmpty)
        {
            Decision<IVolumeEvent, IVolumeReply> d = _state.Decide(new AcknowledgeRelease(_volume, done.Acknowledged), Now);
            if (!d.Events.IsEmpty)
            {
                PersistThen(d.Events, _ => { });
            }
        }
        if (_state.Releasing.Length > done.Acknowledged.Length)
        {
            Timers.StartSingleTimer("release", ReleaseTick.Instance, _options.ReleaseRetry);
        }
    }

    private sealed record ReleaseDone(ImmutableArray<SegmentRef> Acknowledged);

    private sealed class ReleaseTick
    {
        public static readonly ReleaseTick Instance = new();
    }
}
