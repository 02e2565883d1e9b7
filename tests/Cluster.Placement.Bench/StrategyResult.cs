namespace Shoal.Placement.Bench;

/// <summary>One strategy's figures over the whole run.</summary>
internal sealed record StrategyResult
{
    public required string Strategy { get; init; }

    public required int Volumes { get; init; }

    public required int FailedPlacements { get; init; }

    public string? FirstFailure { get; init; }

    public required long Groups { get; init; }

    /// <summary>Time in <see cref="Actors.Placement.IPlacement.Place"/> per volume, in µs.</summary>
    public required double MeanUs { get; init; }

    public required double P50Us { get; init; }

    public required double P99Us { get; init; }

    public required double MaxUs { get; init; }

    /// <summary>The first placement after the initial racks and after the growth racks joined: where copysets form their teams.</summary>
    public required double FirstPlacementUs { get; init; }

    public required double FirstPlacementAfterGrowthUs { get; init; }

    /// <summary>Distinct other drives that share a group with a drive: max and mean over all drives.</summary>
    public required int MaxPeers { get; init; }

    public required double MeanPeers { get; init; }

    /// <summary>Max over mean of the drives' fill.</summary>
    public required double FillImbalance { get; init; }

    public required double MeanFill { get; init; }

    public required double MaxFill { get; init; }

    /// <summary>Distinct node sets that hold whole groups: lose all of one and a group is lost.</summary>
    public required long DistinctNodeSingles { get; init; }

    public required long DistinctNodePairs { get; init; }

    public required long DistinctNodeTriples { get; init; }

    public required long LosingNodeTriples { get; init; }

    public required long AllNodeTriples { get; init; }

    /// <summary>P(some group loses every leg | 3 distinct nodes, chosen uniformly, fail at once).</summary>
    public required double LossProbability { get; init; }

    public required double PlaceSeconds { get; init; }

    public required double WallSeconds { get; init; }
}
