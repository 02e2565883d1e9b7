using System.Globalization;
using System.Text.RegularExpressions;
using Akka.Actor;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Shoal.Actors.Hosting;

/// <summary>
/// Everything a node needs to join the control plane: its identity, where Akka.Remote listens, whom it joins, where
/// its journal lives and the failure-detection timings. <see cref="Validate"/> says what is wrong in words an operator
/// can act on; <see cref="ControlPlaneHosting.WithShoalControlPlane"/> refuses options that do not validate.
/// </summary>
public sealed partial record ControlPlaneOptions
{
    /// <summary>
    /// Default <see cref="SbrStableAfter"/>: Akka's recommendation for clusters of up to about ten nodes (a storage
    /// control plane is three to seven). Long enough for both sides of a partition to see the same reachability picture
    /// (a few 1 s gossip rounds plus the skew between their failure detectors, up to one
    /// <see cref="AcceptableHeartbeatPause"/>), short enough that a crashed node's volumes get a live entity within about
    /// 20 s (see docs/failover.md). Shorter raises the odds of downing a node that was only slow, and a downed node
    /// restarts its whole process, data-path target included.
    /// </summary>
    public static readonly TimeSpan DefaultSbrStableAfter = TimeSpan.FromSeconds(7);

    /// <summary>
    /// Default <see cref="AcceptableHeartbeatPause"/>: Akka's default. It covers a blocking gen-2 collection (these
    /// processes run the workstation, non-concurrent collector) and a busy loopback or LAN with 1 s heartbeats; a real
    /// crash costs about this much before anyone calls the node unreachable.
    /// </summary>
    public static readonly TimeSpan DefaultAcceptableHeartbeatPause = TimeSpan.FromSeconds(3);

    /// <summary>The shortest <see cref="SbrStableAfter"/> accepted: under two gossip rounds the sides may decide on different pictures.</summary>
    public static readonly TimeSpan MinSbrStableAfter = TimeSpan.FromSeconds(2);

    /// <summary>The longest <see cref="SbrStableAfter"/> accepted.</summary>
    public static readonly TimeSpan MaxSbrStableAfter = TimeSpan.FromMinutes(5);

    /// <summary>The shortest <see cref="AcceptableHeartbeatPause"/> accepted: one heartbeat interval.</summary>
    public static readonly TimeSpan MinAcceptableHeartbeatPause = TimeSpan.FromSeconds(1);

    /// <summary>The longest <see cref="AcceptableHeartbeatPause"/> accepted.</summary>
    public static readonly TimeSpan MaxAcceptableHeartbeatPause = TimeSpan.FromMinutes(1);

    /// <summary>The SQLite file a node keeps in its data directory (see <see cref="SqliteConnectionString"/>).</summary>
    public const string SqliteFileName = "control-plane.sqlite";

    private const int MaxNameLength = 63;

    /// <summary>This node's operator-given name; it is also one of its cluster roles (see <c>Protocol.NodeId</c>).</summary>
    public required string NodeName { get; init; }

    /// <summary>Extra cluster roles (for example <c>target</c>, <c>client</c>); <see cref="NodeName"/> is always added.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>The address Akka.Remote binds to, for example <c>0.0.0.0</c> or <c>127.0.0.1</c>.</summary>
    public string BindHost { get; init; } = "127.0.0.1";

    /// <summary>The TCP port Akka.Remote binds to; 0 lets the kernel pick one (such a node cannot be its own seed).</summary>
    public int BindPort { get; init; } = 4053;

    /// <summary>The host name peers use to reach this node; required when <see cref="BindHost"/> is a wildcard address.</summary>
    public string? PublicHostname { get; init; }

    /// <summary>
    /// The cluster's seed nodes, each <c>akka.tcp://shoal@host:port</c>. The first node of a new cluster lists itself first.
    /// </summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    /// <summary>Where the journal and snapshots live.</summary>
    public JournalKind Journal { get; init; } = JournalKind.Sqlite;

    /// <summary>
    /// For <see cref="JournalKind.Sqlite"/> a Microsoft.Data.Sqlite connection string whose data source is an absolute
    /// file path (see <see cref="SqliteConnectionString"/>); for <see cref="JournalKind.PostgreSql"/> an Npgsql
    /// connection string; empty for <see cref="JournalKind.InMemory"/>.
    /// </summary>
    public string? JournalConnectionString { get; init; }

    /// <summary>How long membership and reachability must stay unchanged before the Split Brain Resolver downs anyone.</summary>
    public TimeSpan SbrStableAfter { get; init; } = DefaultSbrStableAfter;

    /// <summary>How long heartbeats from a node may be missing before the cluster failure detector calls it unreachable.</summary>
    public TimeSpan AcceptableHeartbeatPause { get; init; } = DefaultAcceptableHeartbeatPause;

    /// <summary>
    /// A HOCON file used instead of the shipped <c>hocon/shoal.conf</c> beside the assembly; null for the shipped one.
    /// It cannot change what the typed options here set.
    /// </summary>
    public string? HoconPath { get; init; }

    /// <summary>The SQLite connection string for the journal file in <paramref name="dataDirectory"/>.</summary>
    public static string SqliteConnectionString(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        return new SqliteConnectionStringBuilder { DataSource = Path.Combine(Path.GetFullPath(dataDirectory), SqliteFileName) }.ToString();
    }

    /// <summary>The address other nodes reach this one at: <c>akka.tcp://shoal@host:port</c>.</summary>
    public string SelfAddress => $"akka.tcp://{ControlPlaneHosting.ActorSystemName}@{PublicHostname ?? BindHost}:{BindPort.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Every problem with these options, one sentence each; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        ValidateName(errors, "NodeName", NodeName);
        ValidateRoles(errors);
        ValidateRemoting(errors);
        ValidateSeeds(errors);
        ValidateJournal(errors);
        ValidateRange(errors, "SbrStableAfter", SbrStableAfter, MinSbrStableAfter, MaxSbrStableAfter);
        ValidateRange(errors, "AcceptableHeartbeatPause", AcceptableHeartbeatPause, MinAcceptableHeartbeatPause, MaxAcceptableHeartbeatPause);
        if (HoconPath is not null && !File.Exists(HoconPath))
            errors.Add($"HoconPath '{HoconPath}' does not exist; leave it unset to use the shipped hocon/shoal.conf.");
        return errors;
    }

    /// <summary>The roles the node joins with: <see cref="NodeName"/> first, then <see cref="Roles"/>.</summary>
    internal IReadOnlyList<string> EffectiveRoles()
    {
        var roles = new List<string> { NodeName };
        foreach (var role in Roles)
        {
            if (!roles.Contains(role, StringComparer.Ordinal))
                roles.Add(role);
        }
        return roles;
    }

    // Node names and roles end up unquoted in Akka's HOCON (akka.cluster.roles) and in role-based routing, so keep
    // them to characters that need no quoting anywhere.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    private static void ValidateName(List<string> errors, string what, string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
            errors.Add($"{what} is empty: give every node a stable name such as 'node-1'.");
        else if (name.Length > MaxNameLength || !NamePattern().IsMatch(name))
            errors.Add($"{what} '{name}' is not a valid name: use 1-{MaxNameLength} letters, digits, '-' or '_', starting with a letter or digit.");
    }

    private void ValidateRoles(List<string> errors)
    {
        if (Roles is null)
        {
            errors.Add("Roles is null: use an empty list for no extra roles.");
            return;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var role in Roles)
        {
            ValidateName(errors, "Role", role);
            if (role is not null && !seen.Add(role))
                errors.Add($"Role '{role}' is listed twice.");
        }
    }

    private void ValidateRemoting(List<string> errors)
    {
        var bindIsWildcard = BindHost is "0.0.0.0" or "::" or "[::]";
        if (string.IsNullOrWhiteSpace(BindHost) || (!bindIsWildcard && Uri.CheckHostName(BindHost) == UriHostNameType.Unknown))
            errors.Add($"BindHost '{BindHost}' is not a host name or IP address.");
        if (BindPort is < 0 or > 65535)
            errors.Add($"BindPort {BindPort.ToString(CultureInfo.InvariantCulture)} is outside 0-65535 (0 lets the kernel pick).");
        if (PublicHostname is not null && Uri.CheckHostName(PublicHostname) == UriHostNameType.Unknown)
            errors.Add($"PublicHostname '{PublicHostname}' is not a host name or IP address.");
        if (bindIsWildcard && PublicHostname is null)
            errors.Add($"BindHost '{BindHost}' listens on every interface, so PublicHostname must say which address peers use to reach this node.");
    }

    private void ValidateSeeds(List<string> errors)
    {
        if (SeedNodes is null || SeedNodes.Count == 0)
        {
            errors.Add("SeedNodes is empty: list at least one seed; the first node of a new cluster lists itself "
                + $"('{SelfAddress}').");
            return;
        }
        foreach (var seed in SeedNodes)
        {
            if (!Address.TryParse(seed, out var address) || address.Host is null || address.Port is null or < 0 or > 65535)
                errors.Add($"Seed node '{seed}' is not an address of the form akka.tcp://{ControlPlaneHosting.ActorSystemName}@host:port.");
            else if (address.Port == 0)
                errors.Add($"Seed node '{seed}' has port 0: a seed needs a fixed port, so a node bound to port 0 cannot be its own seed.");
            else if (address.Protocol != "akka.tcp")
                errors.Add($"Seed node '{seed}' uses protocol '{address.Protocol}': Akka.Remote here speaks akka.tcp only.");
            else if (address.System != ControlPlaneHosting.ActorSystemName)
                errors.Add($"Seed node '{seed}' names actor system '{address.System}', but every node's system is '{ControlPlaneHosting.ActorSystemName}'.");
        }
    }

    private void ValidateJournal(List<string> errors)
    {
        switch (Journal)
        {
            case JournalKind.InMemory:
                if (!string.IsNullOrEmpty(JournalConnectionString))
                    errors.Add("JournalConnectionString is set but Journal is InMemory, which keeps everything in process memory: remove it or pick Sqlite or PostgreSql.");
                break;
            case JournalKind.Sqlite:
                ValidateSqlite(errors);
                break;
            case JournalKind.PostgreSql:
                ValidatePostgreSql(errors);
                break;
            default:
                errors.Add($"Journal '{Journal}' is not one of InMemory, Sqlite, PostgreSql.");
                break;
        }
    }

    private void ValidateSqlite(List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(JournalConnectionString))
        {
            errors.Add("JournalConnectionString is empty: a Sqlite journal needs 'Data Source=/absolute/path/" + SqliteFileName + "'.");
            return;
        }
        SqliteConnectionStringBuilder sqlite;
        try
        {
            sqlite = new SqliteConnectionStringBuilder(JournalConnectionString);
        }
        catch (ArgumentException e)
        {
            errors.Add($"JournalConnectionString is not a SQLite connection string: {e.Message}");
            return;
        }
        if (string.IsNullOrWhiteSpace(sqlite.DataSource))
            errors.Add("The Sqlite connection string has no Data Source: give the journal file's absolute path.");
        else if (sqlite.Mode == SqliteOpenMode.Memory || sqlite.DataSource == ":memory:")
            errors.Add("The Sqlite journal must be a file, not an in-memory database: use Journal = InMemory for that.");
        else if (!Path.IsPathFullyQualified(sqlite.DataSource))
            errors.Add($"The Sqlite journal path '{sqlite.DataSource}' is relative: give an absolute path in the node's data directory.");
        // SQLite is per process: two nodes would each keep their own copy of every entity's history.
        var self = SelfAddress;
        if (SeedNodes is not null && SeedNodes.Any(seed => !IsSelf(seed)))
            errors.Add($"Journal is Sqlite, which only one process can use, but the seed nodes name other nodes than this one ('{self}'): a multi-node cluster needs Journal = PostgreSql.");
    }

    private bool IsSelf(string seed) =>
        Address.TryParse(seed, out var seedAddress) && Address.TryParse(SelfAddress, out var self)
        && seedAddress.Port == self.Port && string.Equals(seedAddress.Host, self.Host, StringComparison.OrdinalIgnoreCase);

    private void ValidatePostgreSql(List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(JournalConnectionString))
        {
            errors.Add("JournalConnectionString is empty: a PostgreSql journal needs an Npgsql connection string ('Host=...;Database=...;Username=...;Password=...').");
            return;
        }
        NpgsqlConnectionStringBuilder npgsql;
        try
        {
            npgsql = new NpgsqlConnectionStringBuilder(JournalConnectionString);
        }
        catch (ArgumentException e)
        {
            errors.Add($"JournalConnectionString is not an Npgsql connection string: {e.Message}");
            return;
        }
        if (string.IsNullOrWhiteSpace(npgsql.Host))
            errors.Add("The PostgreSql connection string has no Host.");
        if (string.IsNullOrWhiteSpace(npgsql.Database))
            errors.Add("The PostgreSql connection string has no Database.");
    }

    private static void ValidateRange(List<string> errors, string what, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
            errors.Add($"{what} {value.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s is outside {min.TotalSeconds.ToString(CultureInfo.InvariantCulture)}-{max.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s.");
    }
}
