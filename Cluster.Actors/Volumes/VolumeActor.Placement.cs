using System.Collections.Immutable;
using System.Security.Cryptography;
using Akka.Actor;
using Akka.Event;
using Shoal.Actors.Drives;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Volumes;

// Creating, growing and replacing legs: plan with the drive directory, allocate on the drive entities, then commit.
public sealed partial class VolumeActor
{
    private void StartPlacement(IVolumeCommand command, IActorRef replyTo)
    {
        Become(Busy);
        // The incarnation the new segments are allocated to: a fresh one for a create, the current one otherwise.
        VolumeUid uid = command is CreateVolume ? NewUid(_state.Uid) : _state.Uid;
        PlaceAsync(command, _state, uid).PipeTo(Self,
            success: outcome => new PlacementDone(outcome.Commits, outcome.Refusal, outcome.Granted, uid, replyTo),
            failure: e => new PlacementDone([], new VolumeCommandRefused(_volume, VolumeRefusal.Busy, "placement failed: " + e.Message), [], uid, replyTo));
    }

    private void OnPlacementDone(PlacementDone done)
    {
        if (done.Refusal != null)
        {
            Release(done.Granted, done.Uid);
            Finish(done.Refusal, done.ReplyTo);
            return;
        }
        VolumeState next = _state;
        var events = ImmutableArray.CreateBuilder<IVolumeEvent>();
        IVolumeReply reply = new VolumeStateReply(_state.View());
        foreach (IVolumeCommand commit in done.Commits)
        {
            Decision<IVolumeEvent, IVolumeReply> d = next.Decide(commit, Now);
            if (d.Reply is VolumeCommandRefused refused)
            {
                // Nothing of this commit is kept: give its new segments back.
                Release(GrantedBy(commit), done.Uid);
                reply = refused;
                continue;
            }
            foreach (IVolumeEvent e in d.Events)
            {
                next = next.Apply(e);
                events.Add(e);
            }
        }
        if (events.Count == 0)
        {
            Finish(reply, done.ReplyTo);
            return;
        }
        ImmutableHashSet<SegmentRef> claimed = [.. done.Commits.SelectMany(c => GrantedBy(c))];
        PersistThen(events.ToImmutable(), epochBefore => AfterChange(epochBefore, reply, done.ReplyTo, round: 0, claimed));
    }

    private static ImmutableArray<SegmentRef> GrantedBy(IVolumeCommand commit) => commit switch
    {
        CommitCreate c => [.. c.Groups.SelectMany(g => g.Legs).Select(l => l.Segment)],
        CommitGrow c => [.. c.AddedGroups.SelectMany(g => g.Legs).Select(l => l.Segment)],
        CommitReplaceLeg c => [c.Replacement.Segment],
        _ => [],
    };

    /// <summary>Gives segments that were allocated but never committed back to their drives.</summary>
    private void Release(ImmutableArray<SegmentRef> segments, VolumeUid uid)
    {
        foreach (IGrouping<DriveId, SegmentRef> byDrive in segments.GroupBy(s => s.Drive))
        {
            _drives.Tell(new ReleaseSegments(byDrive.Key, uid, [.. byDrive.Select(s => s.Segment)]));
        }
    }

    private async Task<PlacementOutcome> PlaceAsync(IVolumeCommand command, VolumeState state, VolumeUid uid)
    {
        switch (command)
        {
            case CreateVolume c:
                {
                    int groups = c.Spec.GroupsFor(c.Spec.SizeBytes, _options.SegmentBytes);
                    var planned = await PlanAndAllocate(new PlanGroups(groups, c.Spec.Legs, c.Spec.DriveClass, c.Spec.Spread), uid, firstGroup: 0).ConfigureAwait(false);
                    return planned.Refusal != null
                        ? planned
                        : planned with { Commits = [new CommitCreate(_volume, uid, c.Spec, _options.SegmentBytes, _options.RegionBytes, planned.Groups)] };
                }
            case GrowVolume c:
                {
                    int added = state.Spec!.GroupsFor(c.SizeBytes, state.SegmentBytes) - state.Groups.Length;
                    if (added == 0)
                    {
                        return new PlacementOutcome([new CommitGrow(_volume, c.SizeBytes, [])], [], null, []);
                    }
                    var planned = await PlanAndAllocate(new PlanGroups(added, state.Spec.Legs, state.Spec.DriveClass, state.Spec.Spread), uid, state.Groups.Length).ConfigureAwait(false);
                    return planned.Refusal != null ? planned : planned with { Commits = [new CommitGrow(_volume, c.SizeBytes, planned.Groups)] };
                }
            case DriveLost or EvacuateDrive:
                {
                    DriveId lost = command is DriveLost dl ? dl.Drive : ((EvacuateDrive)command).Drive;
                    var commits = ImmutableArray.CreateBuilder<IVolumeCommand>();
                    var granted = ImmutableArray.CreateBuilder<SegmentRef>();
                    foreach ((int g, int l) in state.LegsOn(lost))
                    {
                        if (command is EvacuateDrive && state.Groups[g].Legs[l].State == LegState.InSync && state.Groups[g].InSyncCount == 1)
                        {
                            continue;
                        }
                        ImmutableArray<DriveId> survivors = [.. state.Groups[g].Legs.Where((_, i) => i != l).Select(x => x.Segment.Drive)];
                        var request = new PlanReplacement(survivors, lost, state.Spec!.DriveClass, state.Spec.Spread);
                        PlacementOutcome one = await AllocatePlan(await AskPlan(request).ConfigureAwait(false), uid, [(g, l)]).ConfigureAwait(false);
                        if (one.Refusal != null)
                        {
                            _log.Warning("volume {0}: no replacement for group {1} leg {2} on drive {3}: {4}", _volume, g, l, lost, ((VolumeCommandRefused)one.Refusal).Reason);
                            continue;
                        }
                        LegInfo leg = one.Groups[0].Legs[0] with
                        {
                            State = LegState.Rebuilding,
                            Rebuild = new RebuildProgress(RebuildKind.Full, 0, state.SegmentBytes, Now, Now),
                        };
                        commits.Add(new CommitReplaceLeg(_volume, g, l, leg));
                        granted.Add(leg.Segment);
                    }
                    return new PlacementOutcome(commits.ToImmutable(), [], null, granted.ToImmutable());
                }
            default:
                throw new InvalidOperationException($"{command.GetType().Name} needs no placement");
        }
    }

    private async Task<PlacementPlan> AskPlan(object request)
    {
        try
        {
            return await _directory.Ask<PlacementPlan>(request, _options.AskTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return new PlacementPlan([], "the drive directory did not answer");
        }
    }

    private async Task<PlacementOutcome> PlanAndAllocate(PlanGroups request, VolumeUid uid, int firstGroup)
    {
        PlacementPlan plan = await AskPlan(request).ConfigureAwait(false);
        var slots = new List<(int Group, int Leg)>();
        for (int g = 0; g < request.Groups; g++)
        {
            for (int l = 0; l < request.Legs; l++)
            {
                slots.Add((firstGroup + g, l));
            }
        }
        return await AllocatePlan(plan, uid, slots).ConfigureAwait(false);
    }

    /// <summary>
    /// Allocates one segment per planned (group, leg) slot on its drive entity — all of a drive's slots in one
    /// idempotent request — and builds the groups. Any refusal gives back whatever was granted.
    /// </summary>
    private async Task<PlacementOutcome> AllocatePlan(PlacementPlan plan, VolumeUid uid, IReadOnlyList<(int Group, int Leg)> slots)
    {
        if (plan.Refusal != null || plan.Groups.IsDefaultOrEmpty)
        {
            return Refused(VolumeRefusal.NoCapacity, plan.Refusal ?? "empty placement plan", []);
        }
        int legs = plan.Groups[0].Length;
        var byDrive = new Dictionary<DriveId, List<SegmentOwner>>();
        for (int i = 0; i < slots.Count; i++)
        {
            (int g, int l) = slots[i];
            DriveId drive = plan.Groups[i / legs][i % legs];
            if (!byDrive.TryGetValue(drive, out List<SegmentOwner>? owners))
            {
                byDrive[drive] = owners = [];
            }
            owners.Add(new SegmentOwner(_volume, uid, g, l));
        }
        var granted = new Dictionary<(int, int), SegmentRef>();
        string? refusal = null;
        IDriveReply?[] replies = await Task.WhenAll(byDrive.Select(async kv =>
        {
            try
            {
                return await _drives.Ask<IDriveReply>(new AllocateSegments(kv.Key, [.. kv.Value]), _options.AskTimeout).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                return new DriveCommandRefused(kv.Key, "drive entity did not answer");
            }
        })).ConfigureAwait(false);
        foreach (IDriveReply? reply in replies)
        {
            switch (reply)
            {
                case SegmentsGranted g:
                    foreach (AllocatedSegment s in g.Segments)
                    {
                        granted[(s.Owner.Group, s.Owner.Leg)] = new SegmentRef(g.Drive, s.Segment);
                    }
                    break;
                case DriveCommandRefused r:
                    refusal ??= $"drive {r.Drive}: {r.Reason}";
                    break;
            }
        }
        ImmutableArray<SegmentRef> all = [.. granted.Values];
        _directory.Tell(new ReturnPlan([.. byDrive.Keys]));
        if (refusal != null)
        {
            return Refused(VolumeRefusal.NoCapacity, refusal, all);
        }
        ResolvedDrives resolved;
        try
        {
            resolved = await _directory.Ask<ResolvedDrives>(new ResolveDrives([.. byDrive.Keys]), _options.AskTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
        {
            return Refused(VolumeRefusal.Busy, "the drive directory did not answer", all);
        }
        var groups = ImmutableArray.CreateBuilder<GroupInfo>();
        for (int i = 0; i < slots.Count; i += legs)
        {
            var legInfos = ImmutableArray.CreateBuilder<LegInfo>(legs);
            for (int j = 0; j < legs; j++)
            {
                SegmentRef segment = granted[slots[i + j]];
                if (!resolved.Views.TryGetValue(segment.Drive, out DriveView? view) || view.Inventory == null)
                {
                    return Refused(VolumeRefusal.Busy, $"drive {segment.Drive} left the directory during placement", all);
                }
                legInfos.Add(new LegInfo(segment, view.Inventory.Node, view.Inventory.TargetDrive, LegState.InSync, null));
            }
            groups.Add(new GroupInfo(legInfos.MoveToImmutable()));
        }
        return new PlacementOutcome([], groups.ToImmutable(), null, all);
    }

    private PlacementOutcome Refused(VolumeRefusal code, string reason, ImmutableArray<SegmentRef> granted) =>
        new([], [], new VolumeCommandRefused(_volume, code, reason), granted);

    private static VolumeUid NewUid(VolumeUid previous)
    {
        while (true)
        {
            ulong value = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
            if (value != 0 && value != previous.Value)
            {
                return new VolumeUid(value);
            }
        }
    }

    private sealed record PlacementOutcome(ImmutableArray<IVolumeCommand> Commits, ImmutableArray<GroupInfo> Groups, IVolumeReply? Refusal, ImmutableArray<SegmentRef> Granted);

    private sealed record PlacementDone(ImmutableArray<IVolumeCommand> Commits, IVolumeReply? Refusal, ImmutableArray<SegmentRef> Granted, VolumeUid Uid, IActorRef ReplyTo);
}
