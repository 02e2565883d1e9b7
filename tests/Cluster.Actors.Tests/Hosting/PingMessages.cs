namespace Shoal.Actors.Tests.Hosting;

// The failover probe's sharded test entity protocol.

/// <summary>Ask entity <paramref name="EntityId"/> where it lives.</summary>
public sealed record Ping(string EntityId);

/// <summary>Reply to <see cref="Ping"/>: the address of the node the entity runs on.</summary>
public sealed record Pong(string EntityId, string NodeAddress);
