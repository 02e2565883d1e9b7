using Shoal.Actors.Drives;
using Shoal.Actors.Protocol;
using static Shoal.Actors.Tests.State.Fixtures;

namespace Shoal.Actors.Tests.State;

public sealed class DriveStateTests
{
    private static readonly DriveHealthOptions s_options = new();
    private static readonly DriveId s_drive = Drive(1);

    private static DriveState Step(DriveState state, IDriveCommand command, DateTimeOffset now, out IDriveReply reply)
    {
        Decision<IDriveEvent, IDriveReply> d = state.Decide(command, now, s_options);
        reply = d.Reply;
        return d.Events.Aggregate(state, (s, e) => s.Apply(e));
    }

    private static DriveState Step(DriveState state, IDriveCommand command, DateTimeOffset now) => Step(state, command, now, out _);

    private static DriveState Registered() => Step(DriveState.Empty(s_drive), new RegisterDrive(s_drive, Inventory(1)), T0);

    private static SegmentOwner Owner(int group, int leg = 0, ulong uid = 42) => new(Vol, new VolumeUid(uid), group, leg);

    [Fact]
    public void Health_goes_online_suspect_offline_out_on_the_clock_and_back_online_on_a_heartbeat()
    {
        DriveState state = Registered();
        Assert.Equal(DriveStatus.Online, state.Status);
        DateTimeOffset lastHeartbeat = T0;

        state = Step(state, new CheckDriveHealth(s_drive, lastHeartbeat), T0 + s_options.SuspectAfter);
        Assert.Equal(DriveStatus.Online, state.Status);
        state = Step(state, new CheckDriveHealth(s_drive, lastHeartbeat), T0 + s_options.SuspectAfter + TimeSpan.FromSeconds(1));
        Assert.Equal(DriveStatus.Suspect, state.Status);
        DateTimeOffset offlineAt = T0 + s_options.OfflineAfter + TimeSpan.FromSeconds(1);
        state = Step(state, new CheckDriveHealth(s_drive, lastHeartbeat), offlineAt);
        Assert.Equal(DriveStatus.Offline, state.Status);
        state = Step(state, new CheckDriveHealth(s_drive, lastHeartbeat), offlineAt + s_options.OutAfter - TimeSpan.FromSeconds(1));
        Assert.Equal(DriveStatus.Offline, state.Status);
        state = Step(state, new CheckDriveHealth(s_drive, lastHeartbeat), offlineAt + s_options.OutAfter);
        Assert.Equal(DriveStatus.Out, state.Status);

        state = Step(state, new DriveHeartbeat(s_drive, new NodeId("n1")), offlineAt + s_options.OutAfter + TimeSpan.FromSeconds(3));
        Assert.Equal(DriveStatus.Online, state.Status);
    }

    [Fact]
    public void An_unreachable_node_takes_its_drives_offline_and_errors_fail_a_drive()
    {
        DriveState state = Step(Registered(), new NodeUnreachable(s_drive, new NodeId("n2")), T0);
        Assert.Equal(DriveStatus.Online, state.Status);
        state = Step(state, new NodeUnreachable(s_drive, new NodeId("n1")), T0);
        Assert.Equal(DriveStatus.Offline, state.Status);

        state = Step(Registered(), new ReportDriveError(s_drive, "EIO"), T0);
        Assert.Equal(DriveStatus.Suspect, state.Status);
        for (int i = 1; i < s_options.FailAfterErrors; i++)
        {
            state = Step(state, new ReportDriveError(s_drive, "EIO"), T0);
        }
        Assert.Equal(DriveStatus.Failed, state.Status);
        state = Step(state, new DriveHeartbeat(s_drive, new NodeId("n1")), T0);
        Assert.Equal(DriveStatus.Failed, state.Status);
        Step(state, new RegisterDrive(s_drive, Inventory(1)), T0, out IDriveReply refused);
        Assert.IsType<DriveCommandRefused>(refused);
    }

    [Fact]
    public void Allocation_is_idempotent_all_or_nothing_and_bounded_by_capacity()
    {
        DriveState state = Step(Registered(), new AllocateSegments(s_drive, [Owner(0), Owner(1)]), T0, out IDriveReply first);
        SegmentsGranted granted = Assert.IsType<SegmentsGranted>(first);
        Assert.Equal([0u, 1u], granted.Segments.Select(s => s.Segment));

        // Asking again for the same owners (a retried allocation) gives the same segments and persists nothing.
        Decision<IDriveEvent, IDriveReply> again = state.Decide(new AllocateSegments(s_drive, [Owner(1), Owner(0)]), T0, s_options);
        Assert.Empty(again.Events);
        Assert.Equal([1u, 0u], Assert.IsType<SegmentsGranted>(again.Reply).Segments.Select(s => s.Segment));

        // 14 left: asking for 15 gets nothing at all.
        Decision<IDriveEvent, IDriveReply> tooMany = state.Decide(new AllocateSegments(s_drive, [.. Enumerable.Range(2, 15).Select(g => Owner(g))]), T0, s_options);
        Assert.Empty(tooMany.Events);
        Assert.IsType<DriveCommandRefused>(tooMany.Reply);
        Assert.Equal(14, state.FreeSegments);

        // A suspect drive takes no new segments.
        DriveState suspect = Step(state, new ReportDriveError(s_drive, "EIO"), T0);
        Assert.IsType<DriveCommandRefused>(suspect.Decide(new AllocateSegments(s_drive, [Owner(5)]), T0, s_options).Reply);
    }

    [Fact]
    public void Released_segments_stay_reserved_until_the_target_confirms()
    {
        DriveState state = Step(Registered(), new AllocateSegments(s_drive, [Owner(0), Owner(1)]), T0);
        Step(state, new ReleaseSegments(s_drive, new VolumeUid(7), [0]), T0, out IDriveReply foreign);
        Assert.IsType<DriveCommandRefused>(foreign);

        state = Step(state, new ReleaseSegments(s_drive, new VolumeUid(42), [0]), T0);
        Assert.Single(state.Releasing);
        Assert.Equal(14, state.FreeSegments);
        state = Step(state, new AllocateSegments(s_drive, [Owner(2)]), T0, out IDriveReply next);
        Assert.Equal(2u, Assert.IsType<SegmentsGranted>(next).Segments[0].Segment);

        state = Step(state, new ConfirmSegmentsReleased(s_drive, [0]), T0);
        Assert.Empty(state.Releasing);
        Assert.Equal(14, state.FreeSegments);
    }

    [Fact]
    public void Remove_is_refused_while_segments_are_allocated_unless_forced()
    {
        DriveState state = Step(Registered(), new AllocateSegments(s_drive, [Owner(0)]), T0);
        Step(state, new RemoveDrive(s_drive, Force: false), T0, out IDriveReply refused);
        Assert.Contains("still allocated", Assert.IsType<DriveCommandRefused>(refused).Reason, StringComparison.Ordinal);
        state = Step(state, new RemoveDrive(s_drive, Force: true), T0);
        Assert.Equal(DriveStatus.Removed, state.Status);
        Step(state, new RegisterDrive(s_drive, Inventory(1)), T0, out IDriveReply back);
        Assert.IsType<DriveCommandRefused>(back);
    }

    [Fact]
    public void Registration_refuses_inconsistent_inventory_and_a_heartbeat_from_another_node()
    {
        DriveState empty = DriveState.Empty(s_drive);
        Step(empty, new RegisterDrive(s_drive, Inventory(1) with { CapacityBytes = SegmentBytes }), T0, out IDriveReply bad);
        Assert.IsType<DriveCommandRefused>(bad);
        DriveState state = Registered();
        Step(state, new DriveHeartbeat(s_drive, new NodeId("n9")), T0, out IDriveReply wrongNode);
        Assert.IsType<DriveCommandRefused>(wrongNode);
        Step(state, new GetDrive(Drive(2)), T0, out IDriveReply misrouted);
        Assert.IsType<DriveCommandRefused>(misrouted);
    }

    [Fact]
    public void Maintenance_holds_out_after_while_the_node_is_away_and_releases_it_when_left()
    {
        DriveState state = Step(Registered(), new SetDriveMaintenance(s_drive, true), T0);
        Assert.True(state.InMaintenance);
        Assert.False(state.Allocatable);
        DateTimeOffset offlineAt = T0 + TimeSpan.FromSeconds(2);
        state = Step(state, new NodeUnreachable(s_drive, new NodeId("n1")), offlineAt);
        Assert.Equal(DriveStatus.Offline, state.Status);

        // Far past out-after but inside the window: still offline, never out.
        state = Step(state, new CheckDriveHealth(s_drive, T0), offlineAt + s_options.OutAfter * 3);
        Assert.Equal(DriveStatus.Offline, state.Status);
        Assert.True(state.InMaintenance);

        // Leaving is refused while the drive is away, accepted once it is back online.
        Step(state, new SetDriveMaintenance(s_drive, false), offlineAt + s_options.OutAfter * 3, out IDriveReply early);
        Assert.Contains("back online", Assert.IsType<DriveCommandRefused>(early).Reason, StringComparison.Ordinal);
        DateTimeOffset backAt = offlineAt + s_options.OutAfter * 3 + TimeSpan.FromSeconds(1);
        state = Step(state, new DriveHeartbeat(s_drive, new NodeId("n1")), backAt);
        Assert.Equal(DriveStatus.Online, state.Status);
        Assert.False(state.Allocatable);
        state = Step(state, new SetDriveMaintenance(s_drive, false), backAt);
        Assert.False(state.InMaintenance);
        Assert.True(state.Allocatable);

        // Out of maintenance the clock runs as before.
        DateTimeOffset downAgain = backAt + TimeSpan.FromSeconds(1);
        state = Step(state, new NodeUnreachable(s_drive, new NodeId("n1")), downAgain);
        state = Step(state, new CheckDriveHealth(s_drive, backAt), downAgain + s_options.OutAfter);
        Assert.Equal(DriveStatus.Out, state.Status);
    }

    [Fact]
    public void Maintenance_ends_by_itself_after_the_window_and_out_after_resumes()
    {
        DriveState state = Step(Registered(), new SetDriveMaintenance(s_drive, true), T0);
        state = Step(state, new NodeUnreachable(s_drive, new NodeId("n1")), T0);
        state = Step(state, new CheckDriveHealth(s_drive, T0), T0 + s_options.MaintenanceWindow - TimeSpan.FromSeconds(1));
        Assert.True(state.InMaintenance);
        Assert.Equal(DriveStatus.Offline, state.Status);

        Decision<IDriveEvent, IDriveReply> ended = state.Decide(new CheckDriveHealth(s_drive, T0), T0 + s_options.MaintenanceWindow, s_options);
        DriveMaintenanceChanged change = Assert.IsType<DriveMaintenanceChanged>(Assert.Single(ended.Events));
        Assert.False(change.Maintenance);
        Assert.Contains("window", change.Reason, StringComparison.Ordinal);
        state = ended.Events.Aggregate(state, (s, e) => s.Apply(e));
        Assert.False(state.InMaintenance);

        // Offline since T0, longer than out-after: out on the next check.
        state = Step(state, new CheckDriveHealth(s_drive, T0), T0 + s_options.MaintenanceWindow + TimeSpan.FromSeconds(1));
        Assert.Equal(DriveStatus.Out, state.Status);
    }

    [Fact]
    public void Maintenance_blocks_new_segments_keeps_held_ones_and_leaves_draining_alone()
    {
        DriveState state = Step(Registered(), new AllocateSegments(s_drive, [Owner(0)]), T0);
        state = Step(state, new SetDriveDraining(s_drive, true), T0);
        state = Step(state, new SetDriveMaintenance(s_drive, true), T0);
        Assert.True(state.Draining);
        Step(state, new AllocateSegments(s_drive, [Owner(0)]), T0, out IDriveReply again);
        Assert.Single(Assert.IsType<SegmentsGranted>(again).Segments);

        state = Step(state, new SetDriveDraining(s_drive, false), T0);
        Step(state, new AllocateSegments(s_drive, [Owner(1)]), T0, out IDriveReply refused);
        Assert.Contains("maintenance", Assert.IsType<DriveCommandRefused>(refused).Reason, StringComparison.Ordinal);
        state = Step(state, new SetDriveMaintenance(s_drive, false), T0);
        Assert.False(state.Draining);
        Step(state, new AllocateSegments(s_drive, [Owner(1)]), T0, out IDriveReply granted);
        Assert.IsType<SegmentsGranted>(granted);

        Step(DriveState.Empty(s_drive), new SetDriveMaintenance(s_drive, true), T0, out IDriveReply unregistered);
        Assert.IsType<DriveCommandRefused>(unregistered);
    }
}
