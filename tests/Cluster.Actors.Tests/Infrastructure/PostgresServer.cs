using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Shoal.Actors.Tests.Infrastructure;

/// <summary>
/// The machine's PostgreSQL (Debian's cluster 15/main), installed and started when needed, with a fresh database for
/// each fixture instance owned by the role <c>shoal</c> and dropped on dispose. Database names carry the process id
/// and a GUID, so test processes running at the same time never share one. Use as an xunit class or collection fixture.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    /// <summary>The login role every test database belongs to.</summary>
    public const string RoleName = "shoal";

    private const string RolePassword = "shoal-test";
    private const string PreferredVersion = "15";
    private const string PgCtlCluster = "/usr/bin/pg_ctlcluster";
    private const int MaxAttempts = 3;

    private static readonly TimeSpan s_installTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_readyDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(250);

    // One start-up at a time within this process; other processes are handled by checking again after every step.
    private static readonly SemaphoreSlim s_startLock = new(1, 1);

    private ClusterInfo? _cluster;
    private string? _connectionString;

    /// <summary>This fixture's database, unique across processes.</summary>
    public string DatabaseName { get; } = string.Create(CultureInfo.InvariantCulture, $"shoal_test_{Environment.ProcessId}_{Guid.NewGuid():N}");

    /// <summary>Npgsql connection string for <see cref="DatabaseName"/> as <see cref="RoleName"/> over loopback TCP.</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("PostgresServer is not initialized");

    public async Task InitializeAsync()
    {
        await s_startLock.WaitAsync();
        try
        {
            _cluster = await EnsureRunningAsync();
        }
        finally
        {
            s_startLock.Release();
        }
        await PsqlWithRetryAsync(_cluster,
            "DO $$BEGIN " +
            $"CREATE ROLE {RoleName} LOGIN PASSWORD '{RolePassword}'; " +
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN " +
            $"ALTER ROLE {RoleName} LOGIN PASSWORD '{RolePassword}'; " +
            "END$$;");
        await PsqlWithRetryAsync(_cluster, $"CREATE DATABASE \"{DatabaseName}\" OWNER {RoleName};");

        _connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = _cluster.Port,
            Username = RoleName,
            Password = RolePassword,
            Database = DatabaseName,
        }.ToString();

        // Prove the role can log in over TCP (pg_hba), so a wiring test fails here with the real reason.
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is null || _connectionString is null)
            return;
        NpgsqlConnection.ClearAllPools();
        await PsqlWithRetryAsync(_cluster, $"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE);");
    }

    private static async Task<ClusterInfo> EnsureRunningAsync()
    {
        if (!File.Exists(PgCtlCluster))
            await InstallAsync();
        var cluster = await FindClusterAsync();
        if (await IsReadyAsync(cluster))
            return cluster;

        // Another test process may be starting it at the same moment: a failed start is only an error if the
        // server still does not answer by the deadline.
        var start = await ExternalCommand.RunAsync(PgCtlCluster, [cluster.Version, cluster.Name, "start"], s_commandTimeout);
        if (!start.Succeeded && !await IsReadyAsync(cluster))
            await ExternalCommand.RunAsync(PgCtlCluster, [cluster.Version, cluster.Name, "restart"], s_commandTimeout);

        var waited = Stopwatch.StartNew();
        while (!await IsReadyAsync(cluster))
        {
            if (waited.Elapsed > s_readyDeadline)
            {
                var log = $"/var/log/postgresql/postgresql-{cluster.Version}-{cluster.Name}.log";
                var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no log)";
                throw new InvalidOperationException(
                    $"PostgreSQL {cluster.Version}/{cluster.Name} did not accept connections on port {cluster.Port} within "
                    + $"{s_readyDeadline.TotalSeconds} s of 'pg_ctlcluster {cluster.Version} {cluster.Name} start' ({start}).\n{log}:\n{tail}");
            }
            await Task.Delay(s_pollInterval);
        }
        return cluster;
    }

    private static async Task InstallAsync()
    {
        var environment = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        string[] install = ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", "postgresql"];
        var result = await ExternalCommand.RunAsync("apt-get", install, s_installTimeout, environment);
        if (!result.Succeeded)
        {
            // A new machine may have no package lists yet.
            await ExternalCommand.RunAsync("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update", "-q"], s_installTimeout, environment);
            result = await ExternalCommand.RunAsync("apt-get", install, s_installTimeout, environment);
        }
        if (!result.Succeeded || !File.Exists(PgCtlCluster))
            throw new InvalidOperationException($"PostgreSQL is not installed (no {PgCtlCluster}) and installing it failed: {result}");
    }

    private static async Task<ClusterInfo> FindClusterAsync()
    {
        var list = await ExternalCommand.RunAsync("pg_lsclusters", ["--no-header"], s_commandTimeout);
        if (!list.Succeeded)
            throw new InvalidOperationException($"Cannot list PostgreSQL clusters: {list}");
        // Lines look like: "15  main    5432 down   postgres /var/lib/postgresql/15/main /var/log/postgresql/postgresql-15-main.log"
        var clusters = list.Output
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 3 && int.TryParse(fields[2], CultureInfo.InvariantCulture, out _))
            .Select(fields => new ClusterInfo(fields[0], fields[1], int.Parse(fields[2], CultureInfo.InvariantCulture)))
            .ToList();
        return clusters.FirstOrDefault(c => c.Version == PreferredVersion && c.Name == "main")
            ?? clusters.FirstOrDefault()
            ?? throw new InvalidOperationException($"PostgreSQL is installed but has no cluster: create one with 'pg_createcluster {PreferredVersion} main'.");
    }

    private static async Task<bool> IsReadyAsync(ClusterInfo cluster)
    {
        var ready = await ExternalCommand.RunAsync("pg_isready", ["-q", "-h", "/var/run/postgresql", "-p", cluster.Port.ToString(CultureInfo.InvariantCulture)], s_commandTimeout);
        return ready.Succeeded;
    }

    // Concurrent role changes from other test processes can fail with "tuple concurrently updated": try again.
    private static async Task PsqlWithRetryAsync(ClusterInfo cluster, string sql)
    {
        CommandResult? result = null;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            result = await ExternalCommand.RunAsync("runuser",
                ["-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-p", cluster.Port.ToString(CultureInfo.InvariantCulture), "-d", "postgres", "-c", sql],
                s_commandTimeout);
            if (result.Succeeded)
                return;
            await Task.Delay(s_pollInterval * attempt);
        }
        throw new InvalidOperationException($"psql as postgres failed {MaxAttempts} times: {result}");
    }

    private sealed record ClusterInfo(string Version, string Name, int Port);
}
