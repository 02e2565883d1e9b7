using Akka.Hosting;
using Microsoft.Extensions.Hosting;
using Shoal.Actors.Hosting;
using Shoal.Actors.Tests.Infrastructure;

namespace Shoal.Actors.Tests.Hosting;

public sealed class ActorSystemNameTests
{
    [Fact]
    public async Task A_host_that_names_the_system_otherwise_fails_to_start_with_the_reason()
    {
        var options = ControlPlaneHost.SingleNodeOptions(JournalKind.InMemory, connectionString: null);
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddAkka("not-shoal", (builder, _) => builder.WithShoalControlPlane(options)))
            .Build();
        try
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
            Assert.Contains("named 'not-shoal'", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
