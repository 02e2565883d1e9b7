namespace Shoal.Actors.Sharding;

// Keys under which the hosting registry holds the control plane's actors.

/// <summary>The drive entities' shard region.</summary>
public sealed class DriveRegion;

/// <summary>The volume entities' shard region.</summary>
public sealed class VolumeRegion;

/// <summary>This node's drive directory.</summary>
public sealed class DriveDirectory;

/// <summary>The volume catalog's shard region (one entity).</summary>
public sealed class CatalogRegion;

/// <summary>This node's client agent (client role only).</summary>
public sealed class ClientAgentKey;
