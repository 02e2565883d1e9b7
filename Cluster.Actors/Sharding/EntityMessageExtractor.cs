using Akka.Cluster.Sharding;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Sharding;

/// <summary>Routes drive commands by drive id and volume commands by volume name; shards by a stable hash of the id.</summary>
internal sealed class EntityMessageExtractor(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => message switch
    {
        IDriveCommand d => d.Drive.ToString(),
        IVolumeCommand v => v.Volume.Value,
        ICatalogCommand => Catalog.VolumeCatalogActor.EntityId,
        _ => null,
    };
}
