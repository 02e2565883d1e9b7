using System.Buffers.Binary;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;

namespace Shoal.Placement.Bench;

/// <summary>
/// The simulated cluster: node n is in rack n / rack size, rack r in zone r / racks per zone; drive d is on node
/// d / drives per node. Drive ids are random-looking GUIDs (as formatted drives have) that carry the drive's index
/// in their first four bytes, so a result maps back to an index without a 400,000-entry dictionary.
/// </summary>
internal sealed class BenchCluster
{
    public const string DriveClass = "nvme";

    private readonly DriveId[] _ids;

    public BenchCluster(BenchOptions options)
    {
        Options = options;
        Drives = options.Nodes * options.DrivesPerNode;
        Racks = (options.Nodes + options.RackSize - 1) / options.RackSize;
        Zones = (Racks + options.RacksPerZone - 1) / options.RacksPerZone;
        _ids = new DriveId[Drives];
        var random = new Random(options.Seed);
        Span<byte> bytes = stackalloc byte[16];
        for (int d = 0; d < Drives; d++)
        {
            random.NextBytes(bytes);
            BinaryPrimitives.WriteInt32LittleEndian(bytes, d);
            _ids[d] = new DriveId(new Guid(bytes));
        }
    }

    public BenchOptions Options { get; }

    public int Drives { get; }

    public int Racks { get; }

    public int Zones { get; }

    public static int IndexOf(DriveId id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.Value.TryWriteBytes(bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes);
    }

    public int NodeOf(int drive) => drive / Options.DrivesPerNode;

    /// <summary>Upserts every drive of racks [first, end), one by one, as drive entities would report them.</summary>
    public void AddRacks(IPlacement placement, int firstRack, int endRack)
    {
        int firstNode = firstRack * Options.RackSize;
        int endNode = Math.Min(Options.Nodes, endRack * Options.RackSize);
        for (int node = firstNode; node < endNode; node++)
        {
            int rack = node / Options.RackSize;
            var domain = new FailureDomain($"n{node}", $"r{rack}", $"z{rack / Options.RacksPerZone}");
            for (int d = node * Options.DrivesPerNode; d < (node + 1) * Options.DrivesPerNode; d++)
            {
                placement.UpsertDrive(new PlacementDrive(_ids[d], domain, DriveClass, Options.SegmentsPerDrive, Options.SegmentsPerDrive));
            }
        }
    }
}
