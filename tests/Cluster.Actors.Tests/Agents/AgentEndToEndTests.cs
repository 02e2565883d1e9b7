using System.Diagnostics;
using System.Net;
using Akka.Actor;
using Akka.Hosting;
using Shoal.Actors.Agents;
using Shoal.Actors.Drives;
using Shoal.Actors.Hosting;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.Actors.Sharding;
using Shoal.Actors.Tests.Infrastructure;
using Shoal.Actors.Volumes;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Nbd;
using Shoal.DataPath.Target;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;
using Xunit.Abstractions;

namespace Shoal.Actors.Tests.Agents;

/// <summary>
/// The control plane driving the real data path in one process: three real targets on loopback with file drives,
/// their real target agents, the sharded entities on a one-node cluster, and a volume engine whose control port is
/// the volume entity (<see cref="ActorVolumeControl"/>), exported over NBD and driven by nbdcopy. A target stops
/// while the volume is written, and returns: the leg goes stale, then resyncs, and the legs end byte-identical.
/// </summary>
public sealed class AgentEndToEndTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const long SegmentBytes = 4L << 20;
    private const long VolumeBytes = 16L << 20;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);
    private readonly DirectoryInfo _dir = System.IO.Directory.CreateTempSubdirectory("shoal-agents-");
    private readonly ClusterKey _key = new("agent-end-to-end-test-cluster-key"u8.ToArray());
    private readonly Node[] _nodes = new Node[3];
    private ControlPlaneHost _host = null!;

    private sealed class Node
    {
        public required string Name { get; init; }
        public required string DrivePath { get; init; }
        public int Port { get; set; }
        public DriveStore? Drive { get; set; }
        public TargetServer? Server { get; set; }
        public IActorRef? Agent { get; set; }
    }

    public async Task InitializeAsync()
    {
        int seed = Random.Shared.Next();
        output.WriteLine($"placement seed {seed}");
        ControlPlaneOptions options = ControlPlaneHost.SingleNodeOptions(JournalKind.InMemory, connectionString: null);
        _host = await ControlPlaneHost.StartAsync(options, (builder, _) => builder.WithShoalEntities(new EntityOptions
        {
            Volume = new VolumeActorOptions { SegmentBytes = SegmentBytes },
            Placement = () => new CopysetPlacement(new Random(seed)),
        }));
        await _host.WaitUntilUpAsync(s_timeout);
        for (int n = 0; n < _nodes.Length; n++)
        {
            _nodes[n] = new Node { Name = "n" + (n + 1), DrivePath = Path.Combine(_dir.FullName, $"n{n + 1}.img") };
            StartNode(_nodes[n]);
        }
        await WaitAsync("three drives online in the directory", async () =>
            (await Directory.Ask<DriveList>(new ListDrives(), s_timeout)).Drives.Count(d => d.Status == DriveStatus.Online) == 3);
    }

    private IActorRef Volumes => ActorRegistry.For(_host.System).Get<VolumeRegion>();

    private IActorRef Directory => ActorRegistry.For(_host.System).Get<DriveDirectory>();

    private void Log(string line) => output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");

    /// <summary>Opens (or formats) the node's drive, starts its target on its port (the same one after a restart) and its agent.</summary>
    private void StartNode(Node node)
    {
        node.Drive = DriveStore.Open(node.DrivePath, new DriveOpenOptions
        {
            ClusterId = _key.ClusterId,
            CreateBytes = 64L << 20,
            SegmentBytes = SegmentBytes,
            RegionBytes = 1 << 20,
        }, _ => { });
        node.Server = new TargetServer(node.Name, [node.Drive], _key, new TargetOptions(), _ => { });
        node.Server.Start(new IPEndPoint(IPAddress.Loopback, node.Port));
        node.Port = node.Server.LocalEndPoint!.Port;
        var agentOptions = new TargetAgentOptions(new NodeId(node.Name), new FailureDomain(node.Name, "r-" + node.Name, "z1"), "file", $"127.0.0.1:{node.Port}");
        IActorRef drives = ActorRegistry.For(_host.System).Get<DriveRegion>();
        TargetServer server = node.Server;
        node.Agent = _host.System.ActorOf(Props.Create(() => new TargetAgent(agentOptions, server, drives)), $"target-agent-{node.Name}-{Guid.NewGuid():N}");
    }

    /// <summary>The node "crashes": its agent and target stop, its drive closes.</summary>
    private void StopNode(Node node)
    {
        node.Agent?.Tell(PoisonPill.Instance);
        node.Server?.Dispose();
        node.Drive?.Dispose();
        (node.Agent, node.Server, node.Drive) = (null, null, null);
    }

    private async Task WaitAsync(string what, Func<Task<bool>> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > s_timeout)
            {
                throw new TimeoutException($"waited {s_timeout.TotalSeconds} s for {what}");
            }
            await Task.Delay(50);
        }
    }

    private async Task<VolumeView> ViewAsync(VolumeName volume) =>
        Assert.IsType<VolumeStateReply>(await Volumes.Ask<IVolumeReply>(new GetVolume(volume), s_timeout)).View;

    private async Task NbdCopyAsync(string from, string to)
    {
        CommandResult result = await ExternalCommand.RunAsync("nbdcopy", [from, to], s_timeout);
        Assert.True(result.Succeeded, result.ToString());
    }

    [Fact]
    public async Task A_target_lost_mid_write_goes_stale_then_resyncs_and_the_legs_match()
    {
        var volume = new VolumeName("e2e");
        var spec = new VolumeSpec(LayoutKind.Mirror, VolumeBytes, 2, 1, VolumeLayout.DefaultStripeUnitBytes, "file", FailureDomainLevel.Node);
        VolumeView created = Assert.IsType<VolumeStateReply>(await Volumes.Ask<IVolumeReply>(new CreateVolume(volume, spec), s_timeout)).View;
        Log($"created {volume}: uid {created.Uid}, {created.Groups.Length} groups, epoch {created.Epoch}");

        var control = new ActorVolumeControl(volume, new NodeId("client"), new WriterId(0x77), Volumes, Directory, s_timeout, Log);
        using var engine = new VolumeEngine(control.ToLayout(created), _key, control, new EngineOptions { ReprobeIntervalMs = 200, MaxInflight = 16 }, Log);
        engine.Start();
        using var nbd = new NbdServer([new NbdExport(volume.Value, engine)], 0, Log);
        nbd.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0));
        string uri = $"nbd://127.0.0.1:{nbd.TcpEndPoint!.Port}/{volume}";
        Assert.Equal(2UL, (await ViewAsync(volume)).Epoch);

        int seed = Random.Shared.Next();
        Log($"data seed {seed}");
        var random = new Random(seed);
        byte[] first = new byte[VolumeBytes];
        byte[] second = new byte[VolumeBytes];
        random.NextBytes(first);
        random.NextBytes(second);
        string firstPath = Path.Combine(_dir.FullName, "first.bin");
        string secondPath = Path.Combine(_dir.FullName, "second.bin");
        string back = Path.Combine(_dir.FullName, "back.bin");
        await File.WriteAllBytesAsync(firstPath, first);
        await File.WriteAllBytesAsync(secondPath, second);
        await NbdCopyAsync(firstPath, uri);

        // Lose the node holding group 0's second leg, then overwrite everything.
        LegInfo victim = created.Groups[0].Legs[1];
        Node lost = _nodes.Single(n => n.Name == victim.Target.Value);
        Log($"stopping {lost.Name}");
        StopNode(lost);
        await NbdCopyAsync(secondPath, uri);
        VolumeView degraded = await ViewAsync(volume);
        Log($"after the loss: epoch {degraded.Epoch}");
        foreach (LegInfo leg in degraded.Groups.SelectMany(g => g.Legs))
        {
            Assert.Equal(leg.Target.Value == lost.Name ? LegState.Stale : LegState.InSync, leg.State);
        }
        Assert.True(degraded.Epoch > 2, "losing a leg must raise the epoch");
        await NbdCopyAsync(uri, back);
        byte[] readBack = await File.ReadAllBytesAsync(back);
        Assert.True(second.AsSpan().SequenceEqual(readBack), "read back after the loss differs from what was written");

        // The node returns: its legs resync (only the regions written meanwhile) and come back in sync.
        Log($"restarting {lost.Name}");
        StartNode(lost);
        await WaitAsync("every leg in sync again", async () => (await ViewAsync(volume)).Groups.All(g => g.InSyncCount == 2));
        VolumeView healed = await ViewAsync(volume);
        Log($"healed at epoch {healed.Epoch}; engine copied {engine.Counters.ResyncBytes} bytes");
        Assert.True(engine.Counters.ResyncBytes > 0, "the returning legs were not resynced");
        Assert.True(engine.Counters.ResyncBytes <= VolumeBytes, "a delta resync copied more than the volume");

        await NbdCopyAsync(uri, back);
        readBack = await File.ReadAllBytesAsync(back);
        Assert.True(second.AsSpan().SequenceEqual(readBack), "read back after the resync differs from what was written");
        engine.Dispose();
        foreach (Node node in _nodes)
        {
            StopNode(node);
        }
        AssertLegsIdentical(healed);
    }

    /// <summary>Reads every leg's segment straight from the drive files and compares the legs of each group.</summary>
    private void AssertLegsIdentical(VolumeView view)
    {
        for (int g = 0; g < view.Groups.Length; g++)
        {
            byte[]? reference = null;
            foreach (LegInfo leg in view.Groups[g].Legs)
            {
                Node node = _nodes.Single(n => n.Name == leg.Target.Value);
                using DriveStore drive = DriveStore.Open(node.DrivePath, new DriveOpenOptions { ClusterId = _key.ClusterId }, _ => { });
                long offset = drive.Superblock.SegmentDataOffset((int)leg.Segment.Segment);
                drive.Dispose();
                byte[] bytes = new byte[SegmentBytes];
                using (var file = new FileStream(node.DrivePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                {
                    file.Position = offset;
                    file.ReadExactly(bytes);
                }
                reference ??= bytes;
                Assert.True(reference.AsSpan().SequenceEqual(bytes), $"group {g}: leg on {leg.Target} differs from the first leg");
            }
        }
    }

    public async Task DisposeAsync()
    {
        foreach (Node node in _nodes)
        {
            if (node != null)
            {
                StopNode(node);
            }
        }
        await _host.DisposeAsync();
        _dir.Delete(recursive: true);
    }
}
