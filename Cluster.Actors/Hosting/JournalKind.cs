namespace Shoal.Actors.Hosting;

/// <summary>Where the control plane's event journal and snapshots live.</summary>
public enum JournalKind
{
    /// <summary>In process memory, lost on exit: tests only.</summary>
    InMemory,

    /// <summary>A SQLite file in the node's data directory: a single-node cluster (the embedded default).</summary>
    Sqlite,

    /// <summary>A shared PostgreSQL database: required for a multi-node cluster, so that entities can move between nodes.</summary>
    PostgreSql,
}
