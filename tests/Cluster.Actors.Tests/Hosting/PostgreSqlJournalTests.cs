using Shoal.Actors.Hosting;
using Shoal.Actors.Tests.Infrastructure;

namespace Shoal.Actors.Tests.Hosting;

public sealed class PostgreSqlJournalTests(PostgresServer postgres) : IClassFixture<PostgresServer>
{
    [Fact]
    public async Task Events_persisted_through_the_hosted_wiring_are_recovered_in_order_by_a_new_host()
    {
        await JournalRoundTrip.RunAsync(JournalKind.PostgreSql, postgres.ConnectionString);
    }
}
