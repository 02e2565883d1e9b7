using Akka.Configuration;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Shoal.Actors.Hosting;

namespace Shoal.Actors.Tests.Hosting;

/// <summary>What configuration the wiring produces, read from the builder without starting an actor system.</summary>
public sealed class HoconWiringTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("shoal-hocon-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ControlPlaneOptions Options(string? hoconPath = null) => new()
    {
        NodeName = "node-1",
        Roles = ["target"],
        BindPort = 4053,
        SeedNodes = ["akka.tcp://shoal@127.0.0.1:4053"],
        Journal = JournalKind.InMemory,
        SbrStableAfter = TimeSpan.FromSeconds(9),
        AcceptableHeartbeatPause = TimeSpan.FromSeconds(4),
        HoconPath = hoconPath,
    };

    private static Config Build(ControlPlaneOptions options, Action<AkkaConfigurationBuilder>? after = null)
    {
        var builder = new AkkaConfigurationBuilder(new ServiceCollection(), ControlPlaneHosting.ActorSystemName);
        builder.WithShoalControlPlane(options);
        after?.Invoke(builder);
        return builder.Configuration.Value;
    }

    [Fact]
    public void Shipped_hocon_file_lands_beside_the_assembly()
    {
        Assert.True(File.Exists(ControlPlaneHosting.ShippedHoconPath), ControlPlaneHosting.ShippedHoconPath);
        Assert.EndsWith(Path.Combine("hocon", "shoal.conf"), ControlPlaneHosting.ShippedHoconPath, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_options_and_shipped_hocon_are_both_in_force()
    {
        var config = Build(Options());

        // typed
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Contains("SplitBrainResolverProvider", config.GetString("akka.cluster.downing-provider-class"), StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(9), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.Equal(TimeSpan.FromSeconds(4), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
        Assert.Equal(TimeSpan.FromSeconds(1), config.GetTimeSpan("akka.cluster.failure-detector.heartbeat-interval"));
        Assert.Equal(["node-1", "target"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal(["akka.tcp://shoal@127.0.0.1:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(4053, config.GetInt("akka.remote.dot-netty.tcp.port"));

        // shipped file, winning over the sharding defaults that WithClustering appends
        Assert.Equal(TimeSpan.FromSeconds(10), config.GetTimeSpan("akka.cluster.sharding.handoff-timeout"));
        Assert.Equal(10000, config.GetInt("akka.cluster.sharding.buffer-size"));
        Assert.Equal(5, config.GetInt("akka.cluster.sharding.least-shard-allocation-strategy.rebalance-absolute-limit"));
        Assert.Equal("on", config.GetString("akka.cluster.split-brain-resolver.down-all-when-unstable"));
        Assert.Equal(TimeSpan.FromSeconds(5), config.GetTimeSpan("akka.persistence.journal-plugin-fallback.circuit-breaker.call-timeout"));
        Assert.Equal(TimeSpan.FromSeconds(15), config.GetTimeSpan("akka.persistence.journal-plugin-fallback.recovery-event-timeout"));
        Assert.False(config.GetBoolean("akka.coordinated-shutdown.run-by-clr-shutdown-hook"));
    }

    [Fact]
    public void Hocon_added_after_the_wiring_wins()
    {
        var config = Build(Options(), builder => builder.AddHocon(
            "akka.cluster.sharding.handoff-timeout = 3s\nakka.cluster.split-brain-resolver.stable-after = 2s", HoconAddMode.Prepend));
        Assert.Equal(TimeSpan.FromSeconds(3), config.GetTimeSpan("akka.cluster.sharding.handoff-timeout"));
        Assert.Equal(TimeSpan.FromSeconds(2), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
    }

    [Fact]
    public void HoconPath_replaces_the_shipped_file_but_not_the_typed_options()
    {
        var path = Path.Combine(_dir, "override.conf");
        File.WriteAllText(path, """
            akka.cluster.sharding.handoff-timeout = 42s
            akka.cluster.failure-detector.acceptable-heartbeat-pause = 30s
            """);
        var config = Build(Options(path));
        Assert.Equal(TimeSpan.FromSeconds(42), config.GetTimeSpan("akka.cluster.sharding.handoff-timeout"));
        Assert.Equal(100000, config.GetInt("akka.cluster.sharding.buffer-size")); // shipped file not loaded: Akka's default
        Assert.Equal(TimeSpan.FromSeconds(4), config.GetTimeSpan("akka.cluster.failure-detector.acceptable-heartbeat-pause"));
    }
}
