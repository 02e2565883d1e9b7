using System.Diagnostics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Akka.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shoal.Actors.Hosting;

namespace Shoal.Actors.Tests.Infrastructure;

/// <summary>
/// A real <c>Microsoft.Extensions.Hosting</c> host running the production control-plane wiring, as a node would,
/// with the test's own additions on the same Akka builder.
/// </summary>
public sealed class ControlPlaneHost : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan s_virtualTick = TimeSpan.FromSeconds(1);

    private readonly IHost _host;
    private bool _stopped;

    private ControlPlaneHost(IHost host, ActorSystem system)
    {
        _host = host;
        System = system;
    }

    /// <summary>The node's actor system.</summary>
    public ActorSystem System { get; }

    /// <summary>Options for a one-node cluster on loopback that is its own seed (so on a fixed, free port).</summary>
    public static ControlPlaneOptions SingleNodeOptions(JournalKind journal, string? connectionString)
    {
        var port = FreePort.Next();
        return new ControlPlaneOptions
        {
            NodeName = "test-node",
            BindHost = "127.0.0.1",
            BindPort = port,
            SeedNodes = [$"akka.tcp://{ControlPlaneHosting.ActorSystemName}@127.0.0.1:{port}"],
            Journal = journal,
            JournalConnectionString = connectionString,
        };
    }

    /// <summary>Builds and starts a host; throws if the actor system could not be started.</summary>
    public static async Task<ControlPlaneHost> StartAsync(ControlPlaneOptions options, Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddShoalControlPlane(options, configure))
            .Build();
        try
        {
            using var limit = new CancellationTokenSource(s_startTimeout);
            await host.StartAsync(limit.Token);
            return new ControlPlaneHost(host, host.Services.GetRequiredService<ActorSystem>());
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>Polls until this node is Up, calling <paramref name="beforeEachPoll"/> first (for example to advance a virtual clock).</summary>
    public async Task WaitUntilUpAsync(TimeSpan timeout, Action? beforeEachPoll = null)
    {
        var cluster = Cluster.Get(System);
        var waited = Stopwatch.StartNew();
        while (cluster.SelfMember.Status != MemberStatus.Up)
        {
            if (waited.Elapsed > timeout)
                throw new TimeoutException($"node {cluster.SelfAddress} is {cluster.SelfMember.Status}, not Up, after {timeout.TotalSeconds} s");
            beforeEachPoll?.Invoke();
            await Task.Delay(s_pollInterval);
        }
    }

    /// <summary>
    /// Stops the host the way a node stops on SIGTERM: coordinated shutdown (leave the cluster), then the actor system
    /// ends. Leaving needs the leader's periodic ticks, so under a virtual clock this advances it as real time would.
    /// </summary>
    public async Task StopAsync()
    {
        if (_stopped)
            return;
        _stopped = true;
        using var limit = new CancellationTokenSource(s_stopTimeout);
        var stopping = _host.StopAsync(limit.Token);
        if (System.Scheduler is TestScheduler clock)
        {
            while (!stopping.IsCompleted)
            {
                clock.Advance(s_virtualTick);
                await Task.WhenAny(stopping, Task.Delay(s_pollInterval));
            }
        }
        await stopping;
        await System.WhenTerminated.WaitAsync(s_stopTimeout);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _host.Dispose();
        }
    }
}
