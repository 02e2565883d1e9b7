using System.Collections.Immutable;
using FsCheck;
using FsCheck.Fluent;
using Shoal.Actors.Drives;
using Shoal.Actors.Protocol;
using Xunit.Abstractions;
using static Shoal.Actors.Tests.State.Fixtures;

namespace Shoal.Actors.Tests.State;

/// <summary>
/// Model-based test of the drive entity: random sequences of registrations, heartbeats, errors, membership
/// changes, clock ticks, allocations and releases. Invariants: health moves only along the edges, no
/// segment is ever allocated twice or beyond capacity, a segment being released is never handed out, and the
/// journal replayed from empty rebuilds the same state.
/// </summary>
public sealed class DriveModelTests(ITestOutputHelper output)
{
    private const int Segments = 12;
    private static readonly DriveId s_drive = Drive(1);
    private static readonly DriveHealthOptions s_options = new() { OutAfter = TimeSpan.FromSeconds(60), FailAfterErrors = 4 };

    private static readonly ImmutableHashSet<(DriveStatus, DriveStatus)> s_edges =
    [
        (DriveStatus.Unregistered, DriveStatus.Online),
        (DriveStatus.Online, DriveStatus.Suspect), (DriveStatus.Online, DriveStatus.Offline), (DriveStatus.Online, DriveStatus.Failed), (DriveStatus.Online, DriveStatus.Removed),
        (DriveStatus.Suspect, DriveStatus.Online), (DriveStatus.Suspect, DriveStatus.Offline), (DriveStatus.Suspect, DriveStatus.Failed), (DriveStatus.Suspect, DriveStatus.Removed),
        (DriveStatus.Offline, DriveStatus.Online), (DriveStatus.Offline, DriveStatus.Out), (DriveStatus.Offline, DriveStatus.Failed), (DriveStatus.Offline, DriveStatus.Removed),
        (DriveStatus.Out, DriveStatus.Online), (DriveStatus.Out, DriveStatus.Failed), (DriveStatus.Out, DriveStatus.Removed),
        (DriveStatus.Failed, DriveStatus.Removed),
    ];

    public sealed record Op(int Kind, int A, int B, int Seconds);

    private static readonly Gen<Op> s_op =
        from kind in Gen.Choose(0, 11)
        from a in Gen.Choose(0, 5)
        from b in Gen.Choose(0, Segments - 1)
        from seconds in Gen.Choose(0, 40)
        select new Op(kind, a, b, seconds);

    private static IDriveCommand Command(Op op, DateTimeOffset lastHeartbeat) => op.Kind switch
    {
        0 => new RegisterDrive(s_drive, Inventory(1, Segments)),
        1 or 2 => new DriveHeartbeat(s_drive, new NodeId(op.A == 0 ? "n2" : "n1")),
        3 => new ReportDriveError(s_drive, "EIO"),
        4 => new NodeUnreachable(s_drive, new NodeId("n1")),
        5 or 6 => new CheckDriveHealth(s_drive, lastHeartbeat),
        7 => new AllocateSegments(s_drive, [.. Enumerable.Range(0, op.A + 1).Select(i => new SegmentOwner(Vol, new VolumeUid((ulong)op.B % 3 + 1), op.B + i, 0))]),
        8 => new ReleaseSegments(s_drive, new VolumeUid((ulong)op.A % 3 + 1), [(uint)op.B, (uint)((op.B + 1) % Segments)]),
        9 => new ConfirmSegmentsReleased(s_drive, [(uint)op.B]),
        10 => op.A == 0 ? new FailDrive(s_drive, "operator") : new GetDrive(s_drive),
        _ => op.A == 0 ? new RemoveDrive(s_drive, Force: op.B < 2) : new GetDrive(s_drive),
    };

    [Fact]
    public void Drive_state_keeps_its_invariants()
    {
        Property property = Prop.ForAll(Gen.ArrayOf(s_op).ToArbitrary(), steps =>
        {
            DriveState state = DriveState.Empty(s_drive);
            var journal = ImmutableArray.CreateBuilder<IDriveEvent>();
            DateTimeOffset now = T0;
            DateTimeOffset lastHeartbeat = T0;
            for (int i = 0; i < steps.Length; i++)
            {
                now += TimeSpan.FromSeconds(steps[i].Seconds);
                IDriveCommand command = Command(steps[i], lastHeartbeat);
                if (command is DriveHeartbeat { Node.Value: "n1" })
                {
                    lastHeartbeat = now;
                }
                DriveState before = state;
                Decision<IDriveEvent, IDriveReply> d = state.Decide(command, now, s_options);
                foreach (IDriveEvent e in d.Events)
                {
                    if (e is DriveStatusChanged s)
                    {
                        Assert.True(s_edges.Contains((s.From, s.To)), $"step {i} {command}: illegal transition {s.From} -> {s.To}");
                        Assert.Equal(state.Status, s.From);
                    }
                    state = state.Apply(e);
                    journal.Add(e);
                }
                string where = $"step {i} {command}";
                Assert.True(d.Reply is not DriveCommandRefused || d.Events.IsEmpty, $"{where}: a refusal persisted events");
                Assert.True(state.Allocated.Keys.All(s => s < Segments) && state.Releasing.Keys.All(s => s < Segments), $"{where}: segment beyond the drive");
                Assert.True(!state.Allocated.Keys.Intersect(state.Releasing.Keys).Any(), $"{where}: a segment both allocated and releasing");
                Assert.True(state.FreeSegments >= 0, $"{where}: over-committed");
                if (d.Reply is SegmentsGranted granted)
                {
                    Assert.True(granted.Segments.Select(s => s.Segment).Distinct().Count() == granted.Segments.Length, $"{where}: one segment granted twice");
                    Assert.True(granted.Segments.All(s => state.Allocated.TryGetValue(s.Segment, out SegmentOwner? o) && o == s.Owner), $"{where}: granted but not recorded");
                    Assert.True(granted.Segments.All(s => !before.Releasing.ContainsKey(s.Segment)), $"{where}: a releasing segment was handed out");
                }
                Assert.True(before.Status != DriveStatus.Removed || state.Status == DriveStatus.Removed, $"{where}: removed is final");
            }
            DriveState replayed = journal.ToImmutable().Aggregate(DriveState.Empty(s_drive), (s, e) => s.Apply(e));
            Assert.Equal(state.Status, replayed.Status);
            Assert.Equal(state.Allocated.ToArray(), replayed.Allocated.ToArray());
            Assert.Equal(state.Releasing.ToArray(), replayed.Releasing.ToArray());
        });
        ModelCheck.Run(output, property, maxTests: 1000);
    }
}
