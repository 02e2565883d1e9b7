using Shoal.Actors.Hosting;

namespace Shoal.Actors.Tests.Hosting;

public sealed class SqliteJournalTests : IDisposable
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("shoal-sqlite-").FullName;

    public void Dispose()
    {
        // Pooled connections keep the file open after the actor system has gone.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDir, recursive: true);
    }

    [Fact]
    public async Task Events_persisted_through_the_hosted_wiring_are_recovered_in_order_by_a_new_host()
    {
        // A directory that does not exist yet: the wiring creates it.
        var connectionString = ControlPlaneOptions.SqliteConnectionString(Path.Combine(_dataDir, "node-1"));
        await JournalRoundTrip.RunAsync(JournalKind.Sqlite, connectionString);
        Assert.True(File.Exists(Path.Combine(_dataDir, "node-1", ControlPlaneOptions.SqliteFileName)));
    }
}
