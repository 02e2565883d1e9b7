using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Akka.TestKit;
using Shoal.Actors.Hosting;
using Shoal.Actors.Tests.Infrastructure;

namespace Shoal.Actors.Tests.Hosting;

/// <summary>
/// The production wiring with in-memory persistence and Akka's virtual clock, the way actor tests are meant to run:
/// nothing timed happens until the test advances the clock.
/// </summary>
public sealed class VirtualClockTests
{
    private const string VirtualClockHocon = "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"";
    private static readonly TimeSpan s_upTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_delay = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task One_node_comes_Up_and_a_scheduled_message_arrives_only_when_the_clock_is_advanced()
    {
        var options = ControlPlaneHost.SingleNodeOptions(JournalKind.InMemory, connectionString: null);
        await using var node = await ControlPlaneHost.StartAsync(options, (builder, _) => builder.AddHocon(VirtualClockHocon, HoconAddMode.Prepend));
        var clock = Assert.IsType<TestScheduler>(node.System.Scheduler);

        // Cluster housekeeping (leader actions that move Joining to Up) runs on the clock too.
        await node.WaitUntilUpAsync(s_upTimeout, () => clock.Advance(TimeSpan.FromSeconds(1)));

        var recorder = node.System.ActorOf(Props.Create(() => new MessageRecorder()));
        clock.ScheduleTellOnce(s_delay, recorder, "due", ActorRefs.NoSender);

        // Advance runs every due action on this thread before it returns, so a GetRecorded sent afterwards queues
        // behind the scheduled message if, and only if, it was due.
        clock.Advance(s_delay - TimeSpan.FromMilliseconds(1));
        var before = await recorder.Ask<Recorded>(new GetRecorded(), s_askTimeout);
        Assert.Empty(before.Messages);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        var after = await recorder.Ask<Recorded>(new GetRecorded(), s_askTimeout);
        Assert.Equal("due", Assert.Single(after.Messages));
    }

    [Fact]
    public async Task The_running_system_uses_the_shipped_settings()
    {
        var options = ControlPlaneHost.SingleNodeOptions(JournalKind.InMemory, connectionString: null);
        await using var node = await ControlPlaneHost.StartAsync(options, (builder, _) => builder.AddHocon(VirtualClockHocon, HoconAddMode.Prepend));

        Assert.Equal(ControlPlaneHosting.ActorSystemName, node.System.Name);
        var sharding = ClusterShardingSettings.Create(node.System);
        Assert.Equal(TimeSpan.FromSeconds(10), sharding.TuningParameters.HandOffTimeout);
        Assert.False(sharding.RememberEntities);
        var cluster = Akka.Cluster.Cluster.Get(node.System);
        Assert.Contains("test-node", cluster.SelfRoles);
        Assert.Equal(ControlPlaneOptions.DefaultSbrStableAfter, node.System.Settings.Config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
    }
}
