namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The simulated volume's shape: a mirror of <see cref="LegCount"/> legs over <see cref="GroupCount"/> segment groups,
/// each segment split into <see cref="BlocksPerGroup"/> blocks (the unit of a simulated write) and regions of
/// <see cref="RegionBlocks"/> blocks (the unit of the write-intent bitmap). Byte sizes are what the volume entity sees.
/// There is one target more than legs, so a lost leg always has somewhere to be replaced. The application favours the
/// first <see cref="HotBlocksPerGroup"/> blocks of each group, so cold regions sit idle, get their intent bits
/// cleared, and a delta resync really skips them.
/// </summary>
internal sealed record SimGeometry(int TargetCount, int LegCount, int GroupCount, int BlocksPerGroup, int RegionBlocks, int HotBlocksPerGroup)
{
    public const long SegmentBytes = 1 << 20;

    /// <summary>Most regions per segment: one intent mask is one <see cref="ulong"/>.</summary>
    public const int MaxRegions = 64;

    public int BlockCount => GroupCount * BlocksPerGroup;

    public int RegionsPerGroup => BlocksPerGroup / RegionBlocks;

    public long BlockBytes => SegmentBytes / BlocksPerGroup;

    public int RegionBytes => checked((int)(BlockBytes * RegionBlocks));

    public static SimGeometry Draw(Simulator sim)
    {
        SimGeometry geometry = new(
            TargetCount: 0,
            LegCount: sim.Pick([2, 3]),
            GroupCount: sim.Pick([1, 2]),
            BlocksPerGroup: sim.Pick([8, 16, 32]),
            RegionBlocks: sim.Pick([2, 4]),
            HotBlocksPerGroup: 0);
        geometry = geometry with
        {
            TargetCount = geometry.LegCount + 1,
            HotBlocksPerGroup = Math.Max(geometry.RegionBlocks, geometry.BlocksPerGroup / sim.Pick([1, 2, 4])),
        };
        if (geometry.RegionsPerGroup > MaxRegions || geometry.LegCount >= geometry.TargetCount)
        {
            throw sim.Failure("limits", $"geometry {geometry} is out of bounds");
        }
        return geometry;
    }

    /// <summary>Share of application I/O that goes to hot blocks when some blocks are cold.</summary>
    public const double HotShare = 0.9;

    public int GroupOf(int block) => block / BlocksPerGroup;

    /// <summary>A block for the application: hot with probability <see cref="HotShare"/>, otherwise any.</summary>
    public int PickBlock(Simulator sim)
    {
        int group = sim.Random.Next(GroupCount);
        int offset = sim.Chance(HotShare) ? sim.Random.Next(HotBlocksPerGroup) : sim.Random.Next(BlocksPerGroup);
        return (group * BlocksPerGroup) + offset;
    }

    /// <summary>The block's index inside its group's segments.</summary>
    public int OffsetOf(int block) => block % BlocksPerGroup;

    public int RegionOf(int blockInGroup) => blockInGroup / RegionBlocks;

    /// <summary>Legs of group <paramref name="group"/> sit on distinct targets, rotating so groups share targets differently.</summary>
    public int TargetOf(int group, int leg) => (group + leg) % TargetCount;

    public override string ToString() =>
        $"mirror:{LegCount} x {GroupCount} group(s), {BlocksPerGroup} blocks/segment ({HotBlocksPerGroup} hot), {RegionBlocks} blocks/region, {TargetCount} targets";
}
