using Shoal.Actors.Protocol;
using Shoal.Actors.Volumes;
using Shoal.DataPath.Volume;
using static Shoal.Actors.Tests.State.Fixtures;

namespace Shoal.Actors.Tests.State;

public sealed class VolumeStateTests
{
    private static readonly WriterId s_w1 = new(101);
    private static readonly WriterId s_w2 = new(202);

    private static VolumeState Attached(WriterId writer) =>
        Run(Created(), new AttachVolume(Vol, new NodeId("c1"), writer, AttachMode.ReadWrite, Force: false));

    [Fact]
    public void Create_checks_the_spec_and_is_idempotent_for_the_same_spec()
    {
        VolumeState empty = VolumeState.Empty(Vol);
        Assert.Null(empty.CheckCreate(new CreateVolume(Vol, Mirror())));
        IVolumeReply? bad = empty.CheckCreate(new CreateVolume(Vol, Mirror(legs: 4)));
        Assert.Equal(VolumeRefusal.Invalid, Assert.IsType<VolumeCommandRefused>(bad).Code);

        VolumeState created = Created();
        Assert.Equal(VolumeStatus.Ready, created.Status);
        Assert.Equal(1UL, created.Epoch);
        Assert.IsType<VolumeStateReply>(created.CheckCreate(new CreateVolume(Vol, Mirror())));
        Assert.Equal(VolumeRefusal.Conflict, Assert.IsType<VolumeCommandRefused>(created.CheckCreate(new CreateVolume(Vol, Mirror(legs: 3)))).Code);
    }

    [Fact]
    public void Commit_create_refuses_groups_that_do_not_fit_the_spec()
    {
        VolumeSpec spec = Mirror();
        VolumeState empty = VolumeState.Empty(Vol);
        var tooFew = new CommitCreate(Vol, new VolumeUid(1), spec, SegmentBytes, RegionBytes, Groups(spec, 1));
        Assert.Empty(empty.Decide(tooFew, T0).Events);
        var sameDrive = new CommitCreate(Vol, new VolumeUid(1), spec, SegmentBytes, RegionBytes,
            Groups(spec, 2).SetItem(0, new GroupInfo([.. Enumerable.Repeat(Groups(spec, 1)[0].Legs[0], 2)])));
        Decision<IVolumeEvent, IVolumeReply> d = empty.Decide(sameDrive, T0);
        Assert.Empty(d.Events);
        Assert.Contains("distinct drives", Assert.IsType<VolumeCommandRefused>(d.Reply).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_writer_is_refused_until_it_forces_and_forcing_fences_the_first()
    {
        VolumeState state = Attached(s_w1);
        Assert.Equal(2UL, state.Epoch);
        Assert.Equal(s_w1, state.Writer);

        state = Run(state, new AttachVolume(Vol, new NodeId("c2"), s_w2, AttachMode.ReadWrite, Force: false), out IVolumeReply refused);
        Assert.Equal(VolumeRefusal.Attached, Assert.IsType<VolumeCommandRefused>(refused).Code);
        Assert.Equal(2UL, state.Epoch);

        Decision<IVolumeEvent, IVolumeReply> forced = state.Decide(new AttachVolume(Vol, new NodeId("c2"), s_w2, AttachMode.ReadWrite, Force: true), T0);
        Assert.Collection(forced.Events,
            e => Assert.Equal(s_w1, Assert.IsType<VolumeDetached>(e).Writer),
            e => Assert.Equal(s_w2, Assert.IsType<VolumeAttached>(e).Attachment.Writer));
        state = Run(state, new AttachVolume(Vol, new NodeId("c2"), s_w2, AttachMode.ReadWrite, Force: true));
        Assert.Equal(3UL, state.Epoch);
        Assert.Equal(s_w2, state.Writer);
        Assert.Single(state.Attachments);

        // The fenced writer's reports are refused: it is a zombie now.
        Run(state, new ReportLegFailed(Vol, s_w1, 0, 0, "timeout"), out IVolumeReply zombie);
        Assert.Equal(VolumeRefusal.NotWriter, Assert.IsType<VolumeCommandRefused>(zombie).Code);
    }

    [Fact]
    public void Readers_share_but_exclude_a_writer()
    {
        VolumeState state = Run(Created(), new AttachVolume(Vol, new NodeId("c1"), s_w1, AttachMode.ReadOnly, false));
        state = Run(state, new AttachVolume(Vol, new NodeId("c2"), s_w2, AttachMode.ReadOnly, false));
        Assert.Equal(2, state.Attachments.Length);
        Assert.Equal(1UL, state.Epoch);
        Run(state, new AttachVolume(Vol, new NodeId("c3"), new WriterId(303), AttachMode.ReadWrite, false), out IVolumeReply reply);
        Assert.Equal(VolumeRefusal.Attached, Assert.IsType<VolumeCommandRefused>(reply).Code);
    }

    [Fact]
    public void A_failed_leg_goes_stale_with_a_new_epoch_but_the_last_in_sync_leg_never_does()
    {
        VolumeState state = Attached(s_w1);
        state = Run(state, new ReportLegFailed(Vol, s_w1, 1, 0, "connection reset"));
        Assert.Equal(LegState.Stale, state.Groups[1].Legs[0].State);
        Assert.Equal(3UL, state.Epoch);

        Decision<IVolumeEvent, IVolumeReply> last = state.Decide(new ReportLegFailed(Vol, s_w1, 1, 1, "timeout"), T0);
        Assert.Empty(last.Events);
        Assert.Equal(VolumeRefusal.LastInSyncLeg, Assert.IsType<VolumeCommandRefused>(last.Reply).Code);

        // Reporting the same failure again changes nothing.
        Assert.Empty(state.Decide(new ReportLegFailed(Vol, s_w1, 1, 0, "again"), T0).Events);
    }

    [Fact]
    public void A_returning_leg_rebuilds_checkpoints_forward_only_and_comes_back_in_sync()
    {
        VolumeState state = Run(Attached(s_w1), new ReportLegFailed(Vol, s_w1, 0, 1, "down"));
        state = Run(state, new ReportLegReturned(Vol, s_w1, 0, 1));
        LegInfo leg = state.Groups[0].Legs[1];
        Assert.Equal(LegState.Rebuilding, leg.State);
        Assert.Equal(RebuildKind.Delta, leg.Rebuild!.Kind);
        Assert.Equal(4UL, state.Epoch);

        Decision<IVolumeEvent, IVolumeReply> p = state.Decide(new ReportRebuildProgress(Vol, s_w1, 0, 1, 32 << 20), T0.AddSeconds(2));
        state = p.Events.Aggregate(state, (s, e) => s.Apply(e));
        Assert.Equal(50, state.Groups[0].Legs[1].Rebuild!.Percent, 3);
        Assert.Equal(16 << 20, state.Groups[0].Legs[1].Rebuild!.BytesPerSecond, 3);
        Assert.Equal(TimeSpan.FromSeconds(2), state.Groups[0].Legs[1].Rebuild!.Eta);
        Assert.Empty(state.Decide(new ReportRebuildProgress(Vol, s_w1, 0, 1, 16 << 20), T0).Events);
        Assert.IsType<VolumeCommandRefused>(state.Decide(new ReportRebuildProgress(Vol, s_w1, 0, 1, SegmentBytes + 1), T0).Reply);

        state = Run(state, new ReportLegResynced(Vol, s_w1, 0, 1));
        Assert.Equal(LegState.InSync, state.Groups[0].Legs[1].State);
        Assert.Null(state.Groups[0].Legs[1].Rebuild);
        Assert.Equal(5UL, state.Epoch);
    }

    [Fact]
    public void Replacing_a_lost_leg_starts_a_full_rebuild_and_releases_the_old_segment()
    {
        VolumeState state = Run(Attached(s_w1), new ReportLegFailed(Vol, s_w1, 0, 1, "down"));
        var replacement = new LegInfo(new SegmentRef(Drive(9), 3), new NodeId("n9"), 0, LegState.Rebuilding,
            new RebuildProgress(RebuildKind.Full, 0, SegmentBytes, T0, T0));
        state = Run(state, new CommitReplaceLeg(Vol, 0, 1, replacement));
        Assert.Equal(replacement, state.Groups[0].Legs[1]);
        Assert.Contains(new SegmentRef(Drive(1), 0), state.Releasing);

        // The group's only in-sync copy cannot be replaced.
        var other = replacement with { Segment = new SegmentRef(Drive(8), 1) };
        Run(state, new CommitReplaceLeg(Vol, 0, 0, other), out IVolumeReply reply);
        Assert.Equal(VolumeRefusal.LastInSyncLeg, Assert.IsType<VolumeCommandRefused>(reply).Code);
    }

    [Fact]
    public void Delete_waits_for_detach_then_for_every_release_and_leaves_a_tombstone()
    {
        VolumeState state = Attached(s_w1);
        Run(state, new DeleteVolume(Vol), out IVolumeReply attached);
        Assert.Equal(VolumeRefusal.Attached, Assert.IsType<VolumeCommandRefused>(attached).Code);

        state = Run(state, new DetachVolume(Vol, s_w1));
        state = Run(state, new DeleteVolume(Vol));
        Assert.Equal(VolumeStatus.Deleting, state.Status);
        Assert.Equal(4, state.Releasing.Length);
        state = Run(state, new AcknowledgeRelease(Vol, [.. state.Releasing.Take(3)]));
        Assert.Equal(VolumeStatus.Deleting, state.Status);
        state = Run(state, new AcknowledgeRelease(Vol, [.. state.Releasing]));
        Assert.Equal(VolumeStatus.Deleted, state.Status);
        Assert.Empty(state.Groups);

        // A late report from the old writer, or an attach, never brings it back.
        Run(state, new AttachVolume(Vol, new NodeId("c1"), s_w1, AttachMode.ReadWrite, true), out IVolumeReply gone);
        Assert.Equal(VolumeRefusal.NotFound, Assert.IsType<VolumeCommandRefused>(gone).Code);
        Assert.Null(state.CheckCreate(new CreateVolume(Vol, Mirror())));
        Decision<IVolumeEvent, IVolumeReply> again = state.Decide(new CommitCreate(Vol, new VolumeUid(42), Mirror(), SegmentBytes, RegionBytes, Groups(Mirror(), 2)), T0);
        Assert.Contains("fresh", Assert.IsType<VolumeCommandRefused>(again.Reply).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Grow_adds_groups_with_a_new_epoch_and_never_shrinks()
    {
        VolumeState state = Created();
        Assert.IsType<VolumeCommandRefused>(state.CheckGrow(new GrowVolume(Vol, SegmentBytes)));
        Assert.Null(state.CheckGrow(new GrowVolume(Vol, 3 * SegmentBytes)));
        state = Run(state, new CommitGrow(Vol, 3 * SegmentBytes, Groups(Mirror(), 1, firstSegment: 5)));
        Assert.Equal(3, state.Groups.Length);
        Assert.Equal(3 * SegmentBytes, state.Spec!.SizeBytes);
        Assert.Equal(2UL, state.Epoch);
    }

    [Fact]
    public void A_replacement_leg_that_fails_mid_rebuild_resumes_its_full_rebuild_when_it_returns()
    {
        VolumeState state = Run(Attached(s_w1), new ReportLegFailed(Vol, s_w1, 0, 1, "down"));
        var replacement = new LegInfo(new SegmentRef(Drive(9), 3), new NodeId("n9"), 0, LegState.Rebuilding,
            new RebuildProgress(RebuildKind.Full, 0, SegmentBytes, T0, T0));
        state = Run(state, new CommitReplaceLeg(Vol, 0, 1, replacement));
        state = Run(state, new ReportRebuildProgress(Vol, s_w1, 0, 1, 24 << 20));
        state = Run(state, new ReportLegFailed(Vol, s_w1, 0, 1, "replacement target lost"));
        Assert.Equal(LegState.Stale, state.Groups[0].Legs[1].State);

        state = Run(state, new ReportLegReturned(Vol, s_w1, 0, 1));
        RebuildProgress resumed = state.Groups[0].Legs[1].Rebuild!;
        Assert.Equal(RebuildKind.Full, resumed.Kind);
        Assert.Equal(24 << 20, resumed.DoneBytes);
    }
}
