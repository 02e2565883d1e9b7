using System.Collections.Immutable;
using Akka.Actor;
using Shoal.Actors.Drives;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Tests.Actors;

/// <summary>
/// A node's drive directory that just started learns the drives its peers know (so placement on it is not refused
/// until every drive has republished), without letting a peer's older copy override what it heard itself.
/// </summary>
public sealed class DirectorySeedTests : IAsyncLifetime
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);
    private readonly ActorSystem _system = ActorSystem.Create("directory-seed");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _system.Terminate();

    [Fact]
    public async Task A_seeded_directory_places_on_drives_it_never_heard_published_and_keeps_its_own_fresher_views()
    {
        IActorRef peer = Directory("peer");
        IActorRef fresh = Directory("fresh");
        DriveView[] drives = [.. Enumerable.Range(1, 3).Select(n => View(n, DriveStatus.Online))];
        foreach (DriveView view in drives)
        {
            peer.Tell(new DriveStateReply(view));
        }
        // The fresh directory heard drive 3 go offline; the peer has not yet.
        fresh.Tell(new DriveStateReply(drives[2] with { Status = DriveStatus.Offline }));

        PlacementPlan before = await fresh.Ask<PlacementPlan>(new PlanGroups(1, 2, "ssd", FailureDomainLevel.Node), s_timeout);
        Assert.NotNull(before.Refusal);

        Inbox inbox = Inbox.Create(_system);
        inbox.Send(peer, new SeedDirectory());
        var seed = (DirectorySeed)await inbox.ReceiveAsync(s_timeout);
        Assert.Equal(3, seed.Drives.Length);
        fresh.Tell(seed);

        DriveList list = await fresh.Ask<DriveList>(new ListDrives(), s_timeout);
        Assert.Equal(3, list.Drives.Length);
        Assert.Equal(DriveStatus.Offline, list.Drives.Single(d => d.Drive == drives[2].Drive).Status);
        PlacementPlan after = await fresh.Ask<PlacementPlan>(new PlanGroups(1, 2, "ssd", FailureDomainLevel.Node), s_timeout);
        Assert.Null(after.Refusal);
        Assert.Equal([drives[0].Drive, drives[1].Drive], after.Groups[0].OrderBy(d => d.ToString()));
    }

    [Fact]
    public async Task A_large_view_is_sent_in_bounded_batches()
    {
        IActorRef peer = Directory("large");
        int count = DriveDirectoryActor.SeedBatch + 7;
        for (int n = 1; n <= count; n++)
        {
            peer.Tell(new DriveStateReply(View(n, DriveStatus.Online)));
        }
        Inbox inbox = Inbox.Create(_system);
        inbox.Send(peer, new SeedDirectory());
        var first = (DirectorySeed)await inbox.ReceiveAsync(s_timeout);
        var second = (DirectorySeed)await inbox.ReceiveAsync(s_timeout);
        Assert.Equal(DriveDirectoryActor.SeedBatch, first.Drives.Length);
        Assert.Equal(7, second.Drives.Length);
        Assert.Equal(count, first.Drives.Concat(second.Drives).Select(d => d.Drive).Distinct().Count());
    }

    private IActorRef Directory(string name) =>
        _system.ActorOf(Props.Create(() => new DriveDirectoryActor(new CopysetPlacement(new Random(1)), EntityCluster.SegmentBytes, null, null)), name);

    private static DriveView View(int n, DriveStatus status)
    {
        var node = new NodeId("n" + n);
        var drive = new DriveId(new Guid(n, 0, 0, new byte[8]));
        var inventory = new DriveInventory(node, $"/srv/{node}/d0.img", 0, EntityCluster.SegmentBytes * 16, EntityCluster.SegmentBytes, 16, 1 << 20, "ssd",
            new FailureDomain(node.Value, "r" + n, "z1"), $"127.0.0.1:{17000 + n}", $"akka://x/user/agent-{node}");
        return new DriveView(drive, status, inventory, DateTimeOffset.UnixEpoch, 16, [], [], 0, null, false);
    }
}
