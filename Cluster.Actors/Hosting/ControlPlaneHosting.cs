using System.Globalization;
using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Persistence.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using LinqToDB;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Shoal.Actors.Hosting;

/// <summary>
/// The control plane's Akka wiring: remoting, clustering with keep-majority downing, persistence and the shipped HOCON.
/// It registers no entities: callers add their shard regions, singletons and serializers to the same builder.
/// </summary>
public static class ControlPlaneHosting
{
    /// <summary>The actor system name every node uses; seed-node addresses must name it.</summary>
    public const string ActorSystemName = "shoal";

    /// <summary>Where the shipped HOCON lands beside the assembly (see hocon/README.md).</summary>
    internal static readonly string ShippedHoconPath = Path.Combine(AppContext.BaseDirectory, "hocon", "shoal.conf");

    // Akka's defaults, set on purpose rather than inherited: with 1 s heartbeats detection time is dominated by
    // AcceptableHeartbeatPause, the one knob operators get; phi 8 suspects a node once the odds that its next
    // heartbeat is merely late (given the jitter observed so far) fall below 1 in 10^8.
    private static readonly TimeSpan s_heartbeatInterval = TimeSpan.FromSeconds(1);
    private const double PhiThreshold = 8.0;

    // linq2db provider names (LinqToDB.ProviderName): Microsoft.Data.Sqlite and PostgreSQL 15 dialects.
    private const string SqliteProvider = ProviderName.SQLiteMS;
    private const string PostgreSqlProvider = ProviderName.PostgreSQL15;

    /// <summary>
    /// Registers the <c>shoal</c> actor system with the control-plane wiring in <paramref name="services"/>, for a
    /// <c>Microsoft.Extensions.Hosting</c> host. <paramref name="configure"/> adds the caller's parts (shard regions,
    /// serializers, test HOCON) to the same builder after the wiring. Throws at once when the options do not validate.
    /// </summary>
    public static IServiceCollection AddShoalControlPlane(
        this IServiceCollection services,
        ControlPlaneOptions options,
        Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ThrowIfInvalid(options);
        return services.AddAkka(ActorSystemName, (builder, provider) =>
        {
            builder.WithShoalControlPlane(options);
            configure?.Invoke(builder, provider);
        });
    }

    /// <summary>
    /// Adds remoting, clustering (roles, seeds, keep-majority Split Brain Resolver, failure detector), the journal and
    /// snapshot store chosen by <see cref="ControlPlaneOptions.Journal"/>, and the HOCON file for settings that have no
    /// typed option. HOCON the caller adds afterwards with <see cref="HoconAddMode.Prepend"/> wins over all of it.
    /// The actor system must be named <see cref="ActorSystemName"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithShoalControlPlane(this AkkaConfigurationBuilder builder, ControlPlaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ThrowIfInvalid(options);

        // First, so that every typed option below, prepended after it, takes precedence over the file.
        builder.AddHocon(LoadHocon(options.HoconPath ?? ShippedHoconPath), HoconAddMode.Prepend);

        builder.WithRemoting(new RemoteOptions
        {
            HostName = options.BindHost,
            Port = options.BindPort,
            PublicHostName = options.PublicHostname,
        });

        builder.WithClustering(new ClusterOptions
        {
            Roles = [.. options.EffectiveRoles()],
            SeedNodes = [.. options.SeedNodes],
            SplitBrainResolver = new KeepMajorityOption(),
            FailureDetector = new PhiAccrualFailureDetectorOptions
            {
                HeartbeatInterval = s_heartbeatInterval,
                AcceptableHeartbeatPause = options.AcceptableHeartbeatPause,
                Threshold = PhiThreshold,
            },
        });

        // KeepMajorityOption has no typed stable-after.
        var stableAfterMs = ((long)options.SbrStableAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        builder.AddHocon(ConfigurationFactory.ParseString($"akka.cluster.split-brain-resolver.stable-after = {stableAfterMs}ms"), HoconAddMode.Prepend);

        WithJournal(builder, options);

        builder.AddStartup((system, _) =>
        {
            if (system.Name != ActorSystemName)
                throw new InvalidOperationException($"The control plane's actor system is named '{system.Name}', but seed nodes and peers expect '{ActorSystemName}'.");
        });
        return builder;
    }

    private static void WithJournal(AkkaConfigurationBuilder builder, ControlPlaneOptions options)
    {
        switch (options.Journal)
        {
            case JournalKind.InMemory:
                builder.WithInMemoryJournal().WithInMemorySnapshotStore();
                break;
            case JournalKind.Sqlite:
                // SQLite creates the file but not its directory, and a missing one surfaces only as a journal
                // failing in a retry loop at run time.
                var file = new SqliteConnectionStringBuilder(options.JournalConnectionString).DataSource;
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                builder.WithSqlPersistence(options.JournalConnectionString!, SqliteProvider, PersistenceMode.Both, autoInitialize: true);
                break;
            case JournalKind.PostgreSql:
                builder.WithSqlPersistence(options.JournalConnectionString!, PostgreSqlProvider, PersistenceMode.Both, autoInitialize: true);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.Journal, "unknown journal kind");
        }
    }

    private static Config LoadHocon(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"The control plane's HOCON file '{path}' is missing: it ships as hocon/shoal.conf beside Shoal.Actors.dll.", path);
        return ConfigurationFactory.ParseString(File.ReadAllText(path));
    }

    private static void ThrowIfInvalid(ControlPlaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException("Invalid control-plane options:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)), nameof(options));
    }
}
