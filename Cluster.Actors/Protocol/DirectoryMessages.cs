using System.Collections.Immutable;

namespace Shoal.Actors.Protocol;

// Between the drive directories of two nodes. Never persisted.

/// <summary>
/// A directory asks a peer's directory for its view when the peer's node comes up (its own start included): the
/// drive entities publish every few seconds, and until then placement on a node that just started would see too
/// few drives and refuse.
/// </summary>
public sealed record SeedDirectory : IShoalMessage;

/// <summary>
/// Part of a peer directory's view (at most <c>DriveDirectoryActor.SeedBatch</c> drives a message). The asker takes
/// only drives it has not heard of: its own publications are fresher than a peer's copy of them.
/// </summary>
public sealed record DirectorySeed(ImmutableArray<DriveView> Drives) : IShoalMessage;
