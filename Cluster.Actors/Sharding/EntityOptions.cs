using Shoal.Actors.Drives;
using Shoal.Actors.Placement;
using Shoal.Actors.Volumes;

namespace Shoal.Actors.Sharding;

/// <summary>Settings of the drive and volume entities and of each node's drive directory.</summary>
public sealed record EntityOptions
{
    public DriveHealthOptions DriveHealth { get; init; } = new();

    public VolumeActorOptions Volume { get; init; } = new();

    /// <summary>Shards per entity type: about ten times the largest expected node count, so rebalancing stays fine-grained.</summary>
    public int MaxShards { get; init; } = 100;

    /// <summary>Makes each node's placement over its drive directory.</summary>
    public required Func<IPlacement> Placement { get; init; }
}
