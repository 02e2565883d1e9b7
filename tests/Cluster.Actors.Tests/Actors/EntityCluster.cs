using System.Collections.Immutable;
using System.Diagnostics;
using Akka.Actor;
using Akka.Hosting;
using Akka.TestKit;
using Shoal.Actors.Drives;
using Shoal.Actors.Hosting;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.Actors.Sharding;
using Shoal.Actors.Tests.Infrastructure;
using Shoal.Actors.Volumes;

namespace Shoal.Actors.Tests.Actors;

/// <summary>
/// A one-node cluster running the production wiring (<see cref="ControlPlaneHosting"/> and
/// <see cref="EntityHosting"/>) with in-memory persistence and a virtual clock, plus three fake target agents with
/// two 1 GiB drives each (16 segments of 64 MiB). The clock is pumped forward in small steps while a test waits, so
/// sharding's own timers run; a test that needs a jump (drive timeouts) advances it explicitly.
/// </summary>
internal sealed class EntityCluster : IAsyncDisposable
{
    public const int Nodes = 3;
    public const int DrivesPerNode = 2;
    public const int SegmentsPerDrive = 16;
    public const long SegmentBytes = 64L << 20;
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);
    private const string VirtualClock = "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"";

    private readonly ControlPlaneHost _host;

    private EntityCluster(ControlPlaneHost host, ImmutableArray<IActorRef> agents, ImmutableArray<ImmutableArray<DriveId>> drives)
    {
        _host = host;
        Agents = agents;
        Drives = drives;
    }

    public ActorSystem System => _host.System;

    public TestScheduler Clock => (TestScheduler)System.Scheduler;

    public IActorRef Volumes => ActorRegistry.For(System).Get<VolumeRegion>();

    public IActorRef DriveEntities => ActorRegistry.For(System).Get<DriveRegion>();

    public IActorRef Directory => ActorRegistry.For(System).Get<DriveDirectory>();

    /// <summary>The fake target agent of node i (n1..n3).</summary>
    public ImmutableArray<IActorRef> Agents { get; }

    /// <summary>Drive ids by node.</summary>
    public ImmutableArray<ImmutableArray<DriveId>> Drives { get; }

    public static DriveHealthOptions Health { get; } = new() { OutAfter = TimeSpan.FromMinutes(10), MaintenanceWindow = TimeSpan.FromMinutes(20) };

    public static async Task<EntityCluster> StartAsync(int seed)
    {
        ControlPlaneOptions options = ControlPlaneHost.SingleNodeOptions(JournalKind.InMemory, connectionString: null);
        var entities = new EntityOptions { DriveHealth = Health, Placement = () => new CopysetPlacement(new Random(seed)) };
        ControlPlaneHost host = await ControlPlaneHost.StartAsync(options, (builder, _) => builder
            .AddHocon(VirtualClock, HoconAddMode.Prepend)
            .WithShoalEntities(entities));
        var clock = (TestScheduler)host.System.Scheduler;
        await host.WaitUntilUpAsync(TimeSpan.FromSeconds(30), () => clock.Advance(TimeSpan.FromMilliseconds(200)));

        IActorRef driveRegion = ActorRegistry.For(host.System).Get<DriveRegion>();
        var agents = ImmutableArray.CreateBuilder<IActorRef>();
        var drives = ImmutableArray.CreateBuilder<ImmutableArray<DriveId>>();
        string address = ((ExtendedActorSystem)host.System).Provider.DefaultAddress.ToString();
        for (int n = 1; n <= Nodes; n++)
        {
            var node = new NodeId("n" + n);
            string agentName = "fake-target-agent-" + node;
            ImmutableArray<(DriveId, DriveInventory)> local = [.. Enumerable.Range(0, DrivesPerNode).Select(d => (
                new DriveId(new Guid(n, (short)d, 0, new byte[8])),
                new DriveInventory(node, $"/srv/{node}/d{d}.img", (uint)d, SegmentBytes * SegmentsPerDrive, SegmentBytes, SegmentsPerDrive, 1 << 20, "ssd",
                    new FailureDomain(node.Value, "r" + n, "z1"), $"127.0.0.1:{17000 + n}", $"{address}/user/{agentName}")))];
            agents.Add(host.System.ActorOf(Props.Create(() => new FakeTargetAgent(node, driveRegion, local)), agentName));
            drives.Add([.. local.Select(l => l.Item1)]);
        }
        var cluster = new EntityCluster(host, agents.ToImmutable(), drives.ToImmutable());
        // Every drive online and known to this node's directory before a test places anything.
        await cluster.WaitAsync("all drives in the directory", async () =>
            (await cluster.Directory.Ask<DriveList>(new ListDrives(), AskTimeout)).Drives.Count(d => d.Status == DriveStatus.Online) == Nodes * DrivesPerNode);
        return cluster;
    }

    /// <summary>Asks while pumping the virtual clock, so timers the answer depends on (sharding's, fences') run.</summary>
    public async Task<T> AskAsync<T>(IActorRef target, object message)
    {
        Task<T> answer = target.Ask<T>(message, AskTimeout);
        var waited = Stopwatch.StartNew();
        while (!answer.IsCompleted)
        {
            if (waited.Elapsed > AskTimeout)
            {
                throw new TimeoutException($"no answer to {message} within {AskTimeout.TotalSeconds} s");
            }
            Clock.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(answer, Task.Delay(5));
        }
        return await answer;
    }

    public Task<IVolumeReply> SendAsync(IVolumeCommand command) => AskAsync<IVolumeReply>(Volumes, command);

    public async Task<VolumeView> ViewAsync(VolumeName volume) =>
        Assert.IsType<VolumeStateReply>(await SendAsync(new GetVolume(volume))).View;

    public async Task<DriveView> DriveAsync(DriveId drive) =>
        Assert.IsType<DriveStateReply>(await AskAsync<IDriveReply>(DriveEntities, new GetDrive(drive))).View;

    public async Task<ImmutableArray<FenceSegment>> FencesAsync(int node) =>
        (await AskAsync<FakeTargetAgent.Fences>(Agents[node - 1], new FakeTargetAgent.GetFences())).All;

    /// <summary>Polls <paramref name="condition"/> with the clock pumped, until it holds or the deadline passes.</summary>
    public async Task WaitAsync(string what, Func<Task<bool>> condition, TimeSpan? timeout = null)
    {
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(30);
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > limit)
            {
                throw new TimeoutException($"waited {limit.TotalSeconds} s for {what}");
            }
            Clock.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(10);
        }
    }

    /// <summary>Which node (1-based) serves <paramref name="drive"/>.</summary>
    public int NodeOf(DriveId drive) => Drives.Select((d, i) => (d, i)).First(x => x.d.Contains(drive)).i + 1;

    public ValueTask DisposeAsync() => _host.DisposeAsync();
}
