namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The simulated volume's shape: a mirror of <see cref="LegCount"/> legs over <see cref="GroupCount"/> segment groups,
/// each segment split into <see cref="BlocksPerGroup"/> blocks (the unit of a simulated write) and regions of
/// <see cref="RegionBlocks"/> blocks (the unit of the write-intent bitmap). Byte sizes are what the volume entity sees.
/// </summary>
internal sealed record SimGeometry(int TargetCount, int LegCount, int GroupCount, int BlocksPerGroup, int RegionBlocks)
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
        var geometry = new SimGeometry(
            TargetCount: 3,
            LegCount: sim.Pick([2, 3]),
            GroupCount: sim.Pick([1, 2]),
            BlocksPerGroup: sim.Pick([8, 16, 32]),
            RegionBlocks: sim.Pick([2, 4]));
        if (geometry.RegionsPerGroup > MaxRegions || geometry.LegCount > geometry.TargetCount)
        {
            throw sim.Failure("limits", $"geometry {geometry} is out of bounds");
        }
        return geometry;
    }

    public int GroupOf(int block) => block / BlocksPerGroup;

    /// <summary>The block's index inside its group's segments.</summary>
    public int OffsetOf(int block) => block % BlocksPerGroup;

    public int RegionOf(int blockInGroup) => blockInGroup / RegionBlocks;

    /// <summary>Legs of group <paramref name="group"/> sit on distinct targets, rotating so groups share targets differently.</summary>
    public int TargetOf(int group, int leg) => (group + leg) % TargetCount;

    public override string ToString() =>
        $"mirror:{LegCount} x {GroupCount} group(s), {BlocksPerGroup} blocks/segment, {RegionBlocks} blocks/region, {TargetCount} targets";
}
