using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;
using Shoal.Actors.Catalog;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.Actors.Sharding;
using Shoal.DataPath.Volume;
using Xunit.Abstractions;

namespace Shoal.Actors.Tests.Actors;

/// <summary>The volume catalog through its shard region, beside a volume whose name could collide with it.</summary>
public sealed class CatalogEntityTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EntityCluster _cluster = null!;

    public async Task InitializeAsync()
    {
        int seed = Random.Shared.Next();
        output.WriteLine($"placement seed {seed}");
        _cluster = await EntityCluster.StartAsync(seed);
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private IActorRef Catalog => ActorRegistry.For(_cluster.System).Get<CatalogRegion>();

    [Fact]
    public async Task Names_are_listed_once_in_order_and_uncataloged_on_request()
    {
        foreach (string name in new[] { "b", "a", "b", "c" })
        {
            Assert.IsType<CatalogReply>(await _cluster.AskAsync<object>(Catalog, new CatalogVolume(new VolumeName(name))));
        }
        CatalogReply listed = await _cluster.AskAsync<CatalogReply>(Catalog, new GetCatalog());
        Assert.Equal(["a", "b", "c"], listed.Volumes.Select(v => v.Value));
        await _cluster.AskAsync<CatalogReply>(Catalog, new UncatalogVolume(new VolumeName("b")));
        await _cluster.AskAsync<CatalogReply>(Catalog, new UncatalogVolume(new VolumeName("nope")));
        Assert.Equal(["a", "c"], (await _cluster.AskAsync<CatalogReply>(Catalog, new GetCatalog())).Volumes.Select(v => v.Value));
    }

    [Fact]
    public async Task A_volume_named_catalog_keeps_its_own_journal_stream()
    {
        Assert.False(VolumeCatalogActor.JournalId.StartsWith("volume-", StringComparison.Ordinal));
        Assert.False(VolumeCatalogActor.JournalId.StartsWith("drive-", StringComparison.Ordinal));
        await _cluster.AskAsync<CatalogReply>(Catalog, new CatalogVolume(new VolumeName("catalog")));
        var spec = new VolumeSpec(LayoutKind.Mirror, EntityCluster.SegmentBytes, 2, 1, VolumeLayout.DefaultStripeUnitBytes, "ssd", FailureDomainLevel.Node);
        VolumeView view = Assert.IsType<VolumeStateReply>(await _cluster.SendAsync(new CreateVolume(new VolumeName("catalog"), spec))).View;
        Assert.Equal(VolumeStatus.Ready, view.Status);
        ImmutableArray<VolumeName> names = (await _cluster.AskAsync<CatalogReply>(Catalog, new GetCatalog())).Volumes;
        Assert.Equal(["catalog"], names.Select(v => v.Value));
    }
}
