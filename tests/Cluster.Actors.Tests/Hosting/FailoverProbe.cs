using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Shoal.Actors.Hosting;
using Shoal.Actors.Tests.Infrastructure;

namespace Shoal.Actors.Tests.Hosting;

/// <summary>
/// A manual measurement, not a test (see measure-failover.sh and docs/failover.md): three nodes on loopback with the
/// production wiring, the observer in this process and two child processes; kill -9 one child and time, from a
/// survivor, unreachable, downed, removed, and the first answer from one of its entities re-homed on a survivor.
/// </summary>
public static class FailoverProbe
{
    private const int MaxRounds = 20;
    private const int MaxEntityProbes = 300;
    private static readonly TimeSpan s_upTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_failoverTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_pingInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(50);

    /// <summary><c>measure [rounds]</c> prints one timeline per round; <c>node PORT SEEDPORT</c> runs a member until killed.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        switch (args)
        {
            case ["node", var port, var seedPort]:
                await RunNodeAsync(int.Parse(port, CultureInfo.InvariantCulture), int.Parse(seedPort, CultureInfo.InvariantCulture));
                return 0;
            case ["measure", .. var rest]:
                var rounds = rest.Length > 0 ? int.Parse(rest[0], CultureInfo.InvariantCulture) : 1;
                if (rounds is < 1 or > MaxRounds)
                    throw new ArgumentOutOfRangeException(nameof(args), $"rounds must be 1-{MaxRounds}");
                for (var round = 1; round <= rounds; round++)
                    await MeasureOnceAsync(round);
                return 0;
            default:
                await Console.Error.WriteLineAsync("usage: measure [rounds] | node PORT SEEDPORT");
                return 2;
        }
    }

    private static ControlPlaneOptions NodeOptions(int port, int seedPort) => new()
    {
        NodeName = "node-" + port.ToString(CultureInfo.InvariantCulture),
        BindHost = "127.0.0.1",
        BindPort = port,
        SeedNodes = [$"akka.tcp://{ControlPlaneHosting.ActorSystemName}@127.0.0.1:{seedPort.ToString(CultureInfo.InvariantCulture)}"],
        // Entities here hold no state; the coordinator's state lives with the observer, the oldest node, which
        // never dies in this measurement.
        Journal = JournalKind.InMemory,
    };

    private static void AddPingShards(AkkaConfigurationBuilder builder, IServiceProvider _) =>
        builder.WithShardRegion<PingEntity>(PingEntity.TypeName, id => Props.Create(() => new PingEntity(id)), PingEntity.Extractor, new ShardOptions());

    private static async Task RunNodeAsync(int port, int seedPort)
    {
        await using var node = await ControlPlaneHost.StartAsync(NodeOptions(port, seedPort), AddPingShards);
        await node.WaitUntilUpAsync(s_upTimeout);
        await Console.Out.WriteLineAsync("up");
        await node.System.WhenTerminated; // until killed
    }

    private static async Task MeasureOnceAsync(int round)
    {
        var observerPort = FreePort.Next();
        await using var observer = await ControlPlaneHost.StartAsync(NodeOptions(observerPort, observerPort), AddPingShards);
        await observer.WaitUntilUpAsync(s_upTimeout);
        var survivor = StartNode(FreePort.Next(), observerPort);
        var victimPort = FreePort.Next();
        var victim = StartNode(victimPort, observerPort);
        try
        {
            var cluster = Cluster.Get(observer.System);
            await WaitForAsync(() => cluster.State.Members.Count(m => m.Status == MemberStatus.Up) == 3, "three members Up");
            var victimAddress = cluster.State.Members.Single(m => m.Address.Port == victimPort).Address;

            // An entity that lives on the victim: once every region has registered with the coordinator, new shards
            // are spread over all three.
            var region = ActorRegistry.For(observer.System).Get<PingEntity>();
            await WaitForRegionsAsync(region, count: 3);
            var entityId = await FindEntityOnAsync(region, victimAddress);

            var clock = new Stopwatch();
            var timeline = new FailoverTimeline();
            var watcher = observer.System.ActorOf(Props.Create(() => new FailoverObserver(victimAddress, clock, timeline)));
            await WaitForAsync(() => !cluster.State.Unreachable.Any(), "a fully reachable cluster");

            clock.Start();
            victim.Kill(); // SIGKILL: no leave, no goodbye
            using var limit = new CancellationTokenSource(s_failoverTimeout);
            while (!timeline.EntityBack.Task.IsCompleted)
            {
                region.Tell(new Ping(entityId), watcher);
                await Task.Delay(s_pingInterval, limit.Token);
            }
            await timeline.AllAsync().WaitAsync(limit.Token);

            await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: unreachable {Seconds(timeline.Unreachable)}  downed {Seconds(timeline.Downed)}  "
                + $"removed {Seconds(timeline.Removed)}  entity answers from a survivor {Seconds(timeline.EntityBack)}"));
        }
        finally
        {
            // The observer leaves while the survivor still runs, so its shards hand off instead of timing out.
            await observer.StopAsync();
            Stop(victim);
            Stop(survivor);
        }
    }

    private static string Seconds(TaskCompletionSource<TimeSpan> step) =>
        step.Task.Result.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s";

    private static async Task<string> FindEntityOnAsync(IActorRef region, Address node)
    {
        for (var i = 0; i < MaxEntityProbes; i++)
        {
            var id = "volume-" + i.ToString(CultureInfo.InvariantCulture);
            var pong = await region.Ask<Pong>(new Ping(id), s_askTimeout);
            if (pong.NodeAddress == node.ToString())
                return id;
        }
        throw new InvalidOperationException($"no entity among {MaxEntityProbes} landed on {node}");
    }

    private static async Task WaitForRegionsAsync(IActorRef region, int count)
    {
        var waited = Stopwatch.StartNew();
        while ((await region.Ask<CurrentRegions>(GetCurrentRegions.Instance, s_askTimeout)).Regions.Count < count)
        {
            if (waited.Elapsed > s_upTimeout)
                throw new TimeoutException($"fewer than {count} shard regions registered after {s_upTimeout.TotalSeconds} s");
            await Task.Delay(s_pollInterval);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            if (waited.Elapsed > s_upTimeout)
                throw new TimeoutException($"no {what} after {s_upTimeout.TotalSeconds} s");
            await Task.Delay(s_pollInterval);
        }
    }

    // The child runs this same program in node mode: 'dotnet app.dll node ...' or the app host directly.
    private static Process StartNode(int port, int seedPort)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var entry = Assembly.GetEntryAssembly()!.Location;
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
            start.ArgumentList.Add(entry);
        foreach (var argument in new[] { "node", port.ToString(CultureInfo.InvariantCulture), seedPort.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start a node process");
        // Drain its logs so it never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
    }
}
