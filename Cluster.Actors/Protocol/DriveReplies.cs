using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

// Answers from a drive entity.

/// <summary>The drive's state after the command.</summary>
public sealed record DriveStateReply(DriveView View) : IDriveReply;

/// <summary>The segments allocated, in the order of the owners asked for.</summary>
public sealed record SegmentsGranted(DriveId Drive, ImmutableArray<AllocatedSegment> Segments) : IDriveReply;

public sealed record DriveCommandRefused(DriveId Drive, string Reason) : IDriveReply;
