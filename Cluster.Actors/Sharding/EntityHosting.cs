using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Hosting;
using Shoal.Actors.Drives;
using Shoal.Actors.Protocol;
using Shoal.Actors.Serialization;
using Shoal.Actors.Volumes;

namespace Shoal.Actors.Sharding;

/// <summary>Registers the control plane's entities on an Akka.Hosting builder: serializer, pub-sub, the drive directory and both shard regions.</summary>
public static class EntityHosting
{
    public const string DriveTypeName = "drive";
    public const string VolumeTypeName = "volume";
    public const string CatalogTypeName = "catalog";

    public static AkkaConfigurationBuilder WithShoalEntities(this AkkaConfigurationBuilder builder, EntityOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = options.DriveHealth.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid drive health options: " + string.Join("; ", errors), nameof(options));
        }
        var extractor = new EntityMessageExtractor(options.MaxShards);
        var shardOptions = new ShardOptions
        {
            // Entities start on their first message (a target agent's registration, a client's attach, an
            // operator's command); remembering them would only restart idle entities after every rebalance.
            RememberEntities = false,
        };
        return builder
            .WithCustomSerializer("shoal", [typeof(IShoalMessage)], system => new ShoalSerializer(system))
            .WithDistributedPubSub(role: null!)
            .WithActors((system, registry) =>
            {
                IActorRef directory = system.ActorOf(
                    Props.Create(() => new DriveDirectoryActor(options.Placement(), options.Volume.SegmentBytes, DistributedPubSub.Get(system).Mediator, () => registry.Get<DriveRegion>())),
                    DriveDirectoryActor.Name);
                registry.Register<DriveDirectory>(directory);
            })
            .WithShardRegion<DriveRegion>(DriveTypeName, (system, registry, _) => entityId =>
                Props.Create(() => new DriveActor(entityId, options.DriveHealth, registry.Get<VolumeRegion>(), DistributedPubSub.Get(system).Mediator)),
                extractor, shardOptions)
            .WithShardRegion<VolumeRegion>(VolumeTypeName, (_, registry, _) => entityId =>
                Props.Create(() => new VolumeActor(entityId, registry.Get<DriveRegion>(), registry.Get<DriveDirectory>(), options.Volume)),
                extractor, shardOptions)
            .WithShardRegion<CatalogRegion>(CatalogTypeName, (_, _, _) => _ => Props.Create(() => new Catalog.VolumeCatalogActor()),
                extractor, shardOptions);
    }
}
