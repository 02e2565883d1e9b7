using System.Collections.Immutable;
using Akka.Actor;
using Shoal.Actors.Drives;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using Xunit.Abstractions;

namespace Shoal.Actors.Tests.Actors;

/// <summary>The sharded volume and drive entities on one node, through their shard regions, with fake target agents.</summary>
public sealed class VolumeEntityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly VolumeName s_vol = new("db1");
    private static readonly VolumeSpec s_mirror = new(LayoutKind.Mirror, 2 * EntityCluster.SegmentBytes, 2, 1, VolumeLayout.DefaultStripeUnitBytes, "ssd", FailureDomainLevel.Node);
    private static readonly WriterId s_a = new(0xA);
    private static readonly WriterId s_b = new(0xB);
    private EntityCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        int seed = Random.Shared.Next();
        output.WriteLine($"placement seed {seed}");
        _cluster = await EntityCluster.StartAsync(seed);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<VolumeView> CreateAsync(VolumeSpec? spec = null) =>
        Assert.IsType<VolumeStateReply>(await _cluster.SendAsync(new CreateVolume(s_vol, spec ?? s_mirror))).View;

    private async Task<VolumeView> AttachAsync(WriterId writer, bool force = false) =>
        Assert.IsType<VolumeStateReply>(await _cluster.SendAsync(new AttachVolume(s_vol, new NodeId("c1"), writer, AttachMode.ReadWrite, force))).View;

    /// <summary>Every fence the agents recorded at <paramref name="epoch"/>, keyed by segment.</summary>
    private async Task<ImmutableDictionary<SegmentRef, FenceSegment>> FencesAtAsync(ulong epoch)
    {
        var all = ImmutableDictionary.CreateBuilder<SegmentRef, FenceSegment>();
        for (int n = 1; n <= EntityCluster.Nodes; n++)
        {
            foreach (FenceSegment f in await _cluster.FencesAsync(n))
            {
                if (f.Epoch == epoch)
                {
                    all[new SegmentRef(f.Drive, f.Segment)] = f;
                }
            }
        }
        return all.ToImmutable();
    }

    [Fact]
    public async Task Create_places_legs_on_distinct_nodes_allocates_and_claims_every_segment_before_answering()
    {
        VolumeView view = await CreateAsync();
        Assert.Equal(VolumeStatus.Ready, view.Status);
        Assert.Equal(2, view.Groups.Length);
        Assert.Equal(1UL, view.Epoch);
        foreach (GroupInfo group in view.Groups)
        {
            Assert.All(group.Legs, l => Assert.Equal(LegState.InSync, l.State));
            Assert.Equal(2, group.Legs.Select(l => _cluster.NodeOf(l.Segment.Drive)).Distinct().Count());
        }
        ImmutableDictionary<SegmentRef, FenceSegment> fences = await FencesAtAsync(1);
        foreach (LegInfo leg in view.Groups.SelectMany(g => g.Legs))
        {
            Assert.True(fences.TryGetValue(leg.Segment, out FenceSegment? f), $"segment {leg.Segment} was not fenced before the answer");
            Assert.True(f!.Claim);
            Assert.Equal(view.Uid, f.Uid);
            DriveView drive = await _cluster.DriveAsync(leg.Segment.Drive);
            Assert.Contains(drive.Allocated, a => a.Segment == leg.Segment.Segment && a.Owner.Uid == view.Uid);
        }

        // The same spec again is the same volume; another spec is a conflict.
        Assert.Equal(view.Uid, (await CreateAsync()).Uid);
        IVolumeReply other = await _cluster.SendAsync(new CreateVolume(s_vol, s_mirror with { Legs = 3 }));
        Assert.Equal(VolumeRefusal.Conflict, Assert.IsType<VolumeCommandRefused>(other).Code);
    }

    [Fact]
    public async Task A_volume_larger_than_the_cluster_is_refused_and_keeps_nothing()
    {
        VolumeSpec huge = s_mirror with { SizeBytes = 64 * EntityCluster.SegmentBytes };
        IVolumeReply reply = await _cluster.SendAsync(new CreateVolume(s_vol, huge));
        Assert.Equal(VolumeRefusal.NoCapacity, Assert.IsType<VolumeCommandRefused>(reply).Code);
        Assert.Equal(VolumeStatus.None, (await _cluster.ViewAsync(s_vol)).Status);
        foreach (DriveId drive in _cluster.Drives.SelectMany(d => d))
        {
            await _cluster.WaitAsync($"drive {drive} empty", async () => (await _cluster.DriveAsync(drive)).Allocated.IsEmpty);
        }
    }

    [Fact]
    public async Task Attach_fences_every_leg_at_the_new_epoch_and_a_forced_writer_fences_the_first_out()
    {
        await CreateAsync();
        VolumeView a = await AttachAsync(s_a);
        Assert.Equal(2UL, a.Epoch);
        ImmutableDictionary<SegmentRef, FenceSegment> fences = await FencesAtAsync(2);
        Assert.All(a.Groups.SelectMany(g => g.Legs), l => Assert.Equal(s_a, fences[l.Segment].Writer));

        IVolumeReply refused = await _cluster.SendAsync(new AttachVolume(s_vol, new NodeId("c2"), s_b, AttachMode.ReadWrite, false));
        Assert.Equal(VolumeRefusal.Attached, Assert.IsType<VolumeCommandRefused>(refused).Code);

        VolumeView b = await AttachAsync(s_b, force: true);
        Assert.Equal(3UL, b.Epoch);
        Assert.Equal(s_b, b.Writer);
        fences = await FencesAtAsync(3);
        Assert.All(b.Groups.SelectMany(g => g.Legs), l => Assert.Equal(s_b, fences[l.Segment].Writer));
        IVolumeReply zombie = await _cluster.SendAsync(new ReportLegFailed(s_vol, s_a, 0, 0, "timeout"));
        Assert.Equal(VolumeRefusal.NotWriter, Assert.IsType<VolumeCommandRefused>(zombie).Code);
    }

    [Fact]
    public async Task A_failed_leg_is_stale_and_the_survivors_fenced_before_the_writer_hears_back()
    {
        await CreateAsync();
        await AttachAsync(s_a);
        VolumeView after = Assert.IsType<VolumeStateReply>(await _cluster.SendAsync(new ReportLegFailed(s_vol, s_a, 0, 1, "ConnectionLost"))).View;
        Assert.Equal(LegState.Stale, after.Groups[0].Legs[1].State);
        Assert.Equal(3UL, after.Epoch);
        ImmutableDictionary<SegmentRef, FenceSegment> fences = await FencesAtAsync(3);
        Assert.True(fences.ContainsKey(after.Groups[0].Legs[0].Segment), "survivor of group 0 not fenced at the new epoch");
        Assert.True(fences.ContainsKey(after.Groups[1].Legs[1].Segment), "group 1 not fenced at the new epoch");
        Assert.False(fences.ContainsKey(after.Groups[0].Legs[1].Segment), "the stale leg was fenced as if active");

        // The last in-sync leg of group 0 is never marked stale.
        IVolumeReply last = await _cluster.SendAsync(new ReportLegFailed(s_vol, s_a, 0, 0, "ConnectionLost"));
        Assert.True(last is VolumeStateReply { View.Groups: var g } && g[0].Legs[0].State == LegState.InSync || last is VolumeCommandRefused { Code: VolumeRefusal.LastInSyncLeg }, $"unexpected {last}");
        Assert.Equal(LegState.InSync, (await _cluster.ViewAsync(s_vol)).Groups[0].Legs[0].State);
    }

    [Fact]
    public async Task A_leg_whose_target_cannot_be_fenced_goes_stale_with_another_epoch()
    {
        VolumeView created = await CreateAsync();
        int badNode = _cluster.NodeOf(created.Groups[0].Legs[1].Segment.Drive);
        _cluster.Agents[badNode - 1].Tell(new FakeTargetAgent.SetFailing(true), ActorRefs.NoSender);
        VolumeView a = await AttachAsync(s_a);
        int lostLegs = 0;
        foreach (GroupInfo group in a.Groups)
        {
            foreach (LegInfo leg in group.Legs)
            {
                bool bad = _cluster.NodeOf(leg.Segment.Drive) == badNode;
                lostLegs += bad ? 1 : 0;
                Assert.Equal(bad ? LegState.Stale : LegState.InSync, leg.State);
            }
        }
        // The attach's epoch, then one more per leg marked stale.
        Assert.Equal(2UL + (ulong)lostLegs, a.Epoch);
        ImmutableDictionary<SegmentRef, FenceSegment> final = await FencesAtAsync(a.Epoch);
        Assert.All(a.Groups.SelectMany(g => g.Legs).Where(l => l.State == LegState.InSync), l => Assert.True(final.ContainsKey(l.Segment), $"{l.Segment} not fenced at the final epoch"));
    }

    [Fact]
    public async Task Delete_releases_every_segment_and_the_volume_stays_gone()
    {
        VolumeView created = await CreateAsync();
        await AttachAsync(s_a);
        IVolumeReply attached = await _cluster.SendAsync(new DeleteVolume(s_vol));
        Assert.Equal(VolumeRefusal.Attached, Assert.IsType<VolumeCommandRefused>(attached).Code);
        await _cluster.SendAsync(new DetachVolume(s_vol, s_a));
        await _cluster.SendAsync(new DeleteVolume(s_vol));
        await _cluster.WaitAsync("volume deleted", async () => (await _cluster.ViewAsync(s_vol)).Status == VolumeStatus.Deleted);
        foreach (LegInfo leg in created.Groups.SelectMany(g => g.Legs))
        {
            await _cluster.WaitAsync($"segment {leg.Segment} free", async () =>
            {
                DriveView d = await _cluster.DriveAsync(leg.Segment.Drive);
                return d.Allocated.IsEmpty && d.Releasing.IsEmpty;
            });
        }
        IVolumeReply gone = await _cluster.SendAsync(new AttachVolume(s_vol, new NodeId("c1"), s_a, AttachMode.ReadWrite, true));
        Assert.Equal(VolumeRefusal.NotFound, Assert.IsType<VolumeCommandRefused>(gone).Code);
    }

    [Fact]
    public async Task A_drive_silent_past_out_after_is_replaced_by_a_full_rebuild_on_another_node()
    {
        VolumeView created = await CreateAsync();
        await AttachAsync(s_a);
        DriveId lost = created.Groups[0].Legs[0].Segment.Drive;
        int lostNode = _cluster.NodeOf(lost);
        _cluster.Agents[lostNode - 1].Tell(new FakeTargetAgent.SetHeartbeats(false), ActorRefs.NoSender);

        await _cluster.WaitAsync("drive offline", async () => (await _cluster.DriveAsync(lost)).Status == DriveStatus.Offline);
        DriveView offline = await _cluster.DriveAsync(lost);
        Assert.Equal(VolumeStatus.Ready, (await _cluster.ViewAsync(s_vol)).Status);

        // The virtual clock jumps past out-after; the drive entity tells the volume, which replaces the leg.
        _cluster.Clock.Advance(EntityCluster.Health.OutAfter);
        await _cluster.WaitAsync("drive out", async () => (await _cluster.DriveAsync(lost)).Status == DriveStatus.Out);
        await _cluster.WaitAsync("leg replaced", async () => (await _cluster.ViewAsync(s_vol)).Groups.All(g => g.Legs.All(l => l.Segment.Drive != lost)));
        VolumeView replaced = await _cluster.ViewAsync(s_vol);
        for (int g = 0; g < replaced.Groups.Length; g++)
        {
            int i = created.Groups[g].Legs.Select(l => l.Segment.Drive).ToList().IndexOf(lost);
            if (i < 0)
            {
                continue;
            }
            LegInfo leg = replaced.Groups[g].Legs[i];
            Assert.Equal(LegState.Rebuilding, leg.State);
            Assert.Equal(RebuildKind.Full, leg.Rebuild!.Kind);
            Assert.NotEqual(lostNode, _cluster.NodeOf(leg.Segment.Drive));
            Assert.Equal(2, replaced.Groups[g].Legs.Select(l => _cluster.NodeOf(l.Segment.Drive)).Distinct().Count());
        }
        Assert.True(replaced.Epoch > 2);
        output.WriteLine($"drive offline at {offline.StatusSince:O}; volume epoch {replaced.Epoch} after replacement");
        // The lost drive's old segments are being released (they are wiped when its target returns).
        await _cluster.WaitAsync("old segments released", async () => (await _cluster.DriveAsync(lost)).Allocated.IsEmpty);
    }

    [Fact]
    public async Task A_node_in_maintenance_gets_no_new_legs_and_keeps_its_legs_past_out_after_until_the_window_ends()
    {
        VolumeView created = await CreateAsync();
        await AttachAsync(s_a);
        DriveId away = created.Groups[0].Legs[0].Segment.Drive;
        int node = _cluster.NodeOf(away);
        foreach (DriveId drive in _cluster.Drives[node - 1])
        {
            Assert.NotNull(Assert.IsType<DriveStateReply>(await _cluster.AskAsync<IDriveReply>(_cluster.DriveEntities, new SetDriveMaintenance(drive, true))).View.MaintenanceSince);
        }

        // Placement leaves the node out while it is in maintenance.
        await _cluster.WaitAsync("the directory sees the maintenance", async () =>
            (await _cluster.Directory.Ask<DriveList>(new ListDrives(), EntityCluster.AskTimeout)).Drives.Count(d => d.MaintenanceSince != null) == EntityCluster.DrivesPerNode);
        var other = new VolumeName("db2");
        VolumeView placed = Assert.IsType<VolumeStateReply>(await _cluster.SendAsync(new CreateVolume(other, s_mirror))).View;
        Assert.All(placed.Groups.SelectMany(g => g.Legs), l => Assert.NotEqual(node, _cluster.NodeOf(l.Segment.Drive)));

        // The node stops: offline, and far past out-after nothing is replaced.
        _cluster.Agents[node - 1].Tell(new FakeTargetAgent.SetHeartbeats(false), ActorRefs.NoSender);
        await _cluster.WaitAsync("drive offline", async () => (await _cluster.DriveAsync(away)).Status == DriveStatus.Offline);
        _cluster.Clock.Advance(EntityCluster.Health.OutAfter + TimeSpan.FromMinutes(1));
        await _cluster.WaitAsync("a few health checks", async () => (await _cluster.DriveAsync(away)).Status == DriveStatus.Offline);
        Assert.Equal(DriveStatus.Offline, (await _cluster.DriveAsync(away)).Status);
        Assert.Contains((await _cluster.ViewAsync(s_vol)).Groups.SelectMany(g => g.Legs), l => l.Segment.Drive == away);

        // It never comes back: when the window ends, maintenance ends by itself and the legs are rebuilt elsewhere.
        _cluster.Clock.Advance(EntityCluster.Health.MaintenanceWindow - EntityCluster.Health.OutAfter);
        await _cluster.WaitAsync("drive out after the window", async () => (await _cluster.DriveAsync(away)) is { Status: DriveStatus.Out, MaintenanceSince: null });
        await _cluster.WaitAsync("leg replaced", async () => (await _cluster.ViewAsync(s_vol)).Groups.All(g => g.Legs.All(l => l.Segment.Drive != away)));
    }
}
