using System.Collections.Immutable;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.Actors.Volumes;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Tests.State;

/// <summary>Ready-made drives and volumes for the pure-state tests.</summary>
internal static class Fixtures
{
    public const long SegmentBytes = 64 << 20;
    public const int RegionBytes = 1 << 20;
    public static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    public static readonly VolumeName Vol = new("vol1");

    public static DriveId Drive(int i) => new(new Guid(i, 0, 0, new byte[8]));

    public static DriveInventory Inventory(int node, int segments = 16) => new(
        new NodeId("n" + node), $"/srv/shoal/d{node}.img", 0, SegmentBytes * segments, SegmentBytes, segments, RegionBytes, "ssd",
        new FailureDomain("n" + node, "r1", "z1"), "127.0.0.1:" + (17000 + node), "akka://shoal/user/target-agent-n" + node);

    public static VolumeSpec Mirror(int legs = 2, long sizeBytes = 2 * SegmentBytes) =>
        new(LayoutKind.Mirror, sizeBytes, legs, 1, VolumeLayout.DefaultStripeUnitBytes, "ssd", FailureDomainLevel.Node);

    /// <summary>Groups for <paramref name="spec"/>: group g leg l on drive l, segment g (plus <paramref name="firstSegment"/>).</summary>
    public static ImmutableArray<GroupInfo> Groups(VolumeSpec spec, int count, uint firstSegment = 0) =>
        Enumerable.Range(0, count).Select(g => new GroupInfo(Enumerable.Range(0, spec.Legs)
            .Select(l => new LegInfo(new SegmentRef(Drive(l), firstSegment + (uint)g), new NodeId("n" + l), 0, LegState.InSync, null))
            .ToImmutableArray())).ToImmutableArray();

    public static VolumeState Created(VolumeSpec? spec = null)
    {
        spec ??= Mirror();
        VolumeState state = VolumeState.Empty(Vol);
        return Run(state, new CommitCreate(Vol, new VolumeUid(42), spec, SegmentBytes, RegionBytes, Groups(spec, spec.GroupsFor(spec.SizeBytes, SegmentBytes))));
    }

    /// <summary>Decides and applies one command; returns the new state.</summary>
    public static VolumeState Run(VolumeState state, IVolumeCommand command) => Run(state, command, out _);

    public static VolumeState Run(VolumeState state, IVolumeCommand command, out IVolumeReply reply)
    {
        Decision<IVolumeEvent, IVolumeReply> d = state.Decide(command, T0);
        reply = d.Reply;
        foreach (IVolumeEvent e in d.Events)
        {
            state = state.Apply(e);
        }
        return state;
    }
}
