namespace Shoal.Actors.Protocol;

/// <summary>
/// What a target agent knows of one of its drives. <paramref name="TargetDrive"/> is the drive's index in its
/// target's data-path drive list (what a layout's leg names); <paramref name="Target"/> is the data-path target
/// name (the node name) whose listener serves it at <paramref name="DataEndpoint"/> (HOST:PORT), and
/// <paramref name="AgentPath"/> is the actor path of the node's target agent, which applies fences.
/// <paramref name="Checksums"/>: the drive stores a CRC32C per 4 KiB block (format 2); false on a format 1 drive.
/// </summary>
public sealed record DriveInventory(
    NodeId Node,
    string Path,
    uint TargetDrive,
    long CapacityBytes,
    long SegmentBytes,
    int SegmentCount,
    int RegionBytes,
    string DriveClass,
    FailureDomain Domain,
    string DataEndpoint,
    string AgentPath,
    bool Checksums = false);
