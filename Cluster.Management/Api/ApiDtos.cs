using System.Collections.Immutable;

namespace Shoal.Management.Api;

// The REST API's documents (/api/v1), shared by the gateway and the CLI. JSON in camelCase, enums as camelCase strings.
// One family per file is the house exception to one type per file.

public sealed record VolumeDto(
    string Name,
    string Uid,
    string Status,
    string Health,
    string Layout,
    long SizeBytes,
    int Legs,
    int StripeWidth,
    int StripeUnitBytes,
    string DriveClass,
    string Spread,
    long SegmentBytes,
    ulong Epoch,
    ImmutableArray<AttachmentDto> Attachments,
    ImmutableArray<GroupDto> Groups,
    RebuildDto? Rebuild);

public sealed record AttachmentDto(string Node, string Writer, string Mode, DateTimeOffset Since);

public sealed record GroupDto(int Index, ImmutableArray<LegDto> Legs);

public sealed record LegDto(int Leg, string Node, string Drive, uint Segment, string State, RebuildDto? Rebuild);

/// <summary>Progress of a resync or rebuild; for a volume, the sum over its rebuilding legs.</summary>
public sealed record RebuildDto(string Kind, long DoneBytes, long TotalBytes, double Percent, double BytesPerSecond, double? EtaSeconds);

public sealed record CreateVolumeRequest(
    string? Name,
    string? Layout,
    long? SizeBytes,
    int? Legs = null,
    int? StripeWidth = null,
    int? StripeUnitBytes = null,
    string? DriveClass = null,
    string? Spread = null);

public sealed record GrowVolumeRequest(long? SizeBytes);

public sealed record AttachRequest(string? Node = null, bool Force = false);

public sealed record DetachRequest(string? Node = null, bool Force = false);

public sealed record AttachmentResult(string Volume, string Node, string Writer, ulong Epoch, string NbdUri);

public sealed record DriveDto(
    string Id,
    string Node,
    string Path,
    string Status,
    DateTimeOffset StatusSince,
    long CapacityBytes,
    long SegmentBytes,
    int SegmentCount,
    int FreeSegments,
    int AllocatedSegments,
    int ReleasingSegments,
    string DriveClass,
    string Rack,
    string Zone,
    int ErrorCount,
    string? LastError,
    bool Draining,
    DateTimeOffset? MaintenanceSince,
    bool Checksums = false);

/// <summary>A node; <c>maintenance</c>: every one of its drives is in maintenance (out-after held for a planned restart).</summary>
public sealed record NodeDto(string Name, string Address, string Status, bool Reachable, ImmutableArray<string> Roles, int Drives, long CapacityBytes, long FreeBytes, bool Draining, int AllocatedSegments, bool Maintenance);

/// <summary>Put a node into maintenance (<c>on: true</c>) or take it out.</summary>
public sealed record MaintenanceRequest(bool? On);

/// <summary>The rolling-upgrade order as the gateway of <c>gateway</c> sees the cluster now.</summary>
public sealed record UpgradePlanDto(string Gateway, ImmutableArray<UpgradeStepDto> Steps);

/// <summary>One node's turn: <c>refusals</c> lists what would refuse its maintenance right now (empty: it may go).</summary>
public sealed record UpgradeStepDto(int Order, string Node, ImmutableArray<string> Roles, int Legs, bool Maintenance, string Reason, ImmutableArray<string> Refusals);

public sealed record MemberDto(string Address, string Name, string Status, bool Reachable, ImmutableArray<string> Roles);

public sealed record ClusterDto(string Self, string? Leader, ImmutableArray<MemberDto> Members);

public sealed record ShardRegionDto(string Address, int Shards, int Entities);

public sealed record ShardTypeDto(string TypeName, ImmutableArray<ShardRegionDto> Regions);

public sealed record ShardingDto(ImmutableArray<ShardTypeDto> Types);

public sealed record AddressRequest(string? Address);

/// <summary>A drive to add on a target node: an absolute path (a block device or a file); sizeBytes creates a file drive.</summary>
public sealed record AddDriveRequest(string? Node, string? Path, long? SizeBytes = null);

public sealed record VolumeStatsDto(
    string Volume,
    string Node,
    ulong Epoch,
    string NbdUri,
    long Reads,
    long Writes,
    long ReadBytes,
    long WriteBytes,
    long Errors,
    long ResyncBytes,
    double ReadLatencyMeanMicros,
    double WriteLatencyMeanMicros,
    long CorruptReadsServed = 0,
    long BlocksRepaired = 0,
    long UnrepairableBlocks = 0);

/// <summary>
/// An attached volume's checksum findings: totals since attach (reads served from another leg after a block failed its
/// checksum, blocks repaired, blocks no leg holds intact) and its last or current scrub (4 KiB blocks, every leg's).
/// </summary>
public sealed record ScrubDto(
    string Volume,
    string Node,
    bool Started,
    string State,
    int Runs,
    long ScannedBlocks,
    long TotalBlocks,
    long BadBlocks,
    long RepairedBlocks,
    long UnrepairableBlocks,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    long CorruptReadsServed,
    long BlocksRepairedTotal,
    long UnrepairableBlocksTotal);

public sealed record StatsDto(DateTimeOffset At, ImmutableArray<VolumeStatsDto> Volumes);

/// <summary>RFC 9457 problem details, as every error is answered.</summary>
public sealed record ProblemDto(string Type, string Title, int Status, string? Detail, string? Instance);
