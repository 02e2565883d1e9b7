using Akka.Actor;
using Shoal.Actors.Hosting;
using Shoal.Actors.Tests.Infrastructure;

namespace Shoal.Actors.Tests.Hosting;

/// <summary>
/// The persistence proof shared by every journal kind: a one-node cluster persists events, its host stops, a new host
/// on the same journal recovers them all, in order.
/// </summary>
public static class JournalRoundTrip
{
    private const int EventCount = 25;
    private static readonly TimeSpan s_upTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(JournalKind journal, string connectionString)
    {
        var persistenceId = "journal-probe-" + Guid.NewGuid().ToString("N");
        var expected = Enumerable.Range(0, EventCount).Select(i => $"event-{i:D3}").ToList();

        await using (var first = await ControlPlaneHost.StartAsync(ControlPlaneHost.SingleNodeOptions(journal, connectionString)))
        {
            await first.WaitUntilUpAsync(s_upTimeout);
            var probe = first.System.ActorOf(JournalProbe.Props(persistenceId));
            EventAppended? last = null;
            foreach (var value in expected)
                last = await probe.Ask<EventAppended>(new AppendEvent(value), s_askTimeout);
            Assert.Equal(EventCount, last!.SequenceNr);
            await first.StopAsync();
        }

        // A new host, a new actor system, a new port: only the journal is shared.
        await using var second = await ControlPlaneHost.StartAsync(ControlPlaneHost.SingleNodeOptions(journal, connectionString));
        await second.WaitUntilUpAsync(s_upTimeout);
        var recovered = second.System.ActorOf(JournalProbe.Props(persistenceId));
        var log = await recovered.Ask<EventLog>(new GetEvents(), s_askTimeout);
        Assert.Equal(expected, log.Events);
    }
}
