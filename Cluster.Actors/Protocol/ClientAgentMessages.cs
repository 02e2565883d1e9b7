using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

// Messages to and from a node's client agent (the node's attached volumes). Never persisted.

/// <summary>Attach the volume on this node and export it over NBD. <paramref name="Force"/> fences out another writer.</summary>
public sealed record AttachLocal(VolumeName Volume, bool Force) : IShoalMessage;

/// <summary>Stop exporting the volume on this node and detach its writer from the volume entity.</summary>
public sealed record DetachLocal(VolumeName Volume) : IShoalMessage;

/// <summary>The volumes attached on this node with their counters.</summary>
public sealed record GetLocalVolumes : IShoalMessage;

/// <summary>The volume is attached here, exported under its name at <paramref name="NbdUri"/>.</summary>
public sealed record LocalAttachment(VolumeName Volume, NodeId Node, WriterId Writer, ulong Epoch, string NbdUri) : IShoalMessage;

public sealed record LocalDetached(VolumeName Volume, NodeId Node) : IShoalMessage;

/// <summary>Why an attach or detach on this node did not happen; <paramref name="Code"/> as the volume entity gave it, when it did.</summary>
public sealed record LocalCommandRefused(VolumeName Volume, NodeId Node, VolumeRefusal Code, string Reason) : IShoalMessage;

public sealed record LocalVolumes(NodeId Node, ImmutableArray<LocalVolumeStats> Volumes) : IShoalMessage;

/// <summary>
/// One attached volume's engine counters. Latency buckets are per-bucket counts (not cumulative) with upper bounds
/// <c>16 µs &lt;&lt; i</c>, the last one unbounded (<c>LatencyHistogram</c>).
/// </summary>
public sealed record LocalVolumeStats(
    VolumeName Volume,
    ulong Epoch,
    string NbdUri,
    long Reads,
    long Writes,
    long ReadBytes,
    long WriteBytes,
    long Errors,
    long LegFailures,
    long ResyncBytes,
    ImmutableArray<long> ReadLatencyBuckets,
    long ReadLatencySumMicros,
    ImmutableArray<long> WriteLatencyBuckets,
    long WriteLatencySumMicros,
    VolumeIntegrity? Integrity = null);
