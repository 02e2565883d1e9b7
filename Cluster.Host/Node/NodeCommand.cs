using System.Diagnostics;
using System.Globalization;
using System.Net;
using Akka.Actor;
using Akka.Cluster;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Shoal.Actors.Agents;
using Shoal.Actors.Drives;
using Shoal.Actors.Hosting;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.Actors.Sharding;
using Shoal.Actors.Volumes;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Nbd;
using Shoal.DataPath.Target;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;
using Shoal.Host.Cli;
using Shoal.Host.Static;

namespace Shoal.Host.Node;

/// <summary>
/// <c>shoal node start</c>: one cluster node. The target role opens the node's drives and serves them, with a target
/// agent that registers them and applies fences; the client role attaches volumes through their volume entities
/// and exports them over NBD. Every node hosts a share of the sharded drive and volume entities.
/// </summary>
internal static class NodeCommand
{
    public const string Usage = NodeOptions.Usage;

    private static readonly TimeSpan s_askTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromMinutes(2);

    public static int Run(IReadOnlyList<string> argv)
    {
        if (argv.Count == 0 || argv[0] != "start")
        {
            throw new CliException("usage: " + Usage);
        }
        NodeOptions options = NodeOptions.Parse(argv.Skip(1).ToList());
        Action<string> log = Log.For($"node {options.Name}");
        System.IO.Directory.CreateDirectory(options.DataDir);
        ClusterKey key = ClusterKey.Load(options.ClusterKeyFile);

        var drives = new List<DriveStore>();
        TargetServer? target = null;
        IHost? host = null;
        NbdServer? nbd = null;
        var engines = new List<VolumeEngine>();
        try
        {
            if (options.IsTarget)
            {
                target = StartTarget(options, key, drives, log);
            }
            var entities = new EntityOptions
            {
                DriveHealth = new DriveHealthOptions { OutAfter = options.OutAfter },
                Volume = new VolumeActorOptions { SegmentBytes = options.SegmentBytes },
                Placement = () => new CopysetPlacement(new Random()),
            };
            TargetServer? server = target;
            host = new HostBuilder()
                .ConfigureServices(services => services.AddShoalControlPlane(options.ControlPlane(), (builder, _) =>
                {
                    builder.WithShoalEntities(entities);
                    if (server != null)
                    {
                        var agent = new TargetAgentOptions(new NodeId(options.Name), options.Domain, options.DriveClass, $"{options.DataListen!.Address}:{server.LocalEndPoint!.Port}");
                        builder.WithActors((system, registry) =>
                            system.ActorOf(Props.Create(() => new TargetAgent(agent, server, registry.Get<DriveRegion>())), "target-agent"));
                    }
                }))
                .Build();
            host.Start();
            ActorSystem system = host.Services.GetRequiredService<ActorSystem>();
            WaitUntilUp(system, log);
            IActorRef volumes = ActorRegistry.For(system).Get<VolumeRegion>();
            IActorRef directory = ActorRegistry.For(system).Get<DriveDirectory>();
            foreach ((VolumeName name, VolumeSpec spec) in options.Volumes)
            {
                EnsureVolume(volumes, name, spec, log);
            }
            foreach (VolumeName name in options.Attach)
            {
                engines.Add(AttachVolume(options, key, volumes, directory, name, log));
            }
            if (options.NbdListen != null && engines.Count > 0)
            {
                nbd = new NbdServer(engines.Select(e => new NbdExport(e.Name, e)), 0, log);
                nbd.ListenTcp(options.NbdListen);
            }
            using var lifetime = new ProcessLifetime(options.StatsFile, () => Stats(engines, target, system));
            // Downed by the cluster (a partition's minority, or paused past downing): the actor system shuts down and
            // the node stops with it, so nothing keeps serving from a node the cluster no longer counts.
            ProcessLifetime running = lifetime;
            system.WhenTerminated.ContinueWith(_ =>
            {
                try
                {
                    log("the actor system terminated (downed by the cluster?): stopping");
                    running.Stop();
                }
                catch (ObjectDisposedException)
                {
                    // an orderly stop got there first
                }
            }, TaskScheduler.Default);
            Log.Announce($"shoal node ready name={options.Name} akka={options.Akka} roles={string.Join(',', options.Roles.Order())}" +
                (target != null ? $" data={target.LocalEndPoint}" : "") + (nbd != null ? $" nbd={nbd.TcpEndPoint} exports={string.Join(',', engines.Select(e => e.Name))}" : ""));
            lifetime.WaitForStop();
            log("stopping");
            return 0;
        }
        finally
        {
            nbd?.Dispose();
            foreach (VolumeEngine engine in engines)
            {
                engine.Dispose();
            }
            if (host != null)
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                host.StopAsync(stop.Token).GetAwaiter().GetResult();
                host.Dispose();
            }
            target?.Dispose();
            foreach (DriveStore drive in drives)
            {
                drive.Flush();
                drive.Dispose();
            }
        }
    }

    private static TargetServer StartTarget(NodeOptions options, ClusterKey key, List<DriveStore> drives, Action<string> log)
    {
        foreach ((string path, long createBytes) in options.Drives)
        {
            try
            {
                drives.Add(DriveStore.Open(path, new DriveOpenOptions
                {
                    ClusterId = key.ClusterId,
                    CreateBytes = createBytes,
                    SegmentBytes = options.SegmentBytes,
                }, log));
            }
            catch (Exception e) when (e is DriveException or ArgumentOutOfRangeException or IOException)
            {
                throw new CliException($"drive {path}: {e.Message}");
            }
        }
        var server = new TargetServer(options.Name, drives, key, new TargetOptions(), log);
        server.Start(options.DataListen!);
        return server;
    }

    private static void WaitUntilUp(ActorSystem system, Action<string> log)
    {
        var cluster = Cluster.Get(system);
        var waited = Stopwatch.StartNew();
        while (cluster.SelfMember.Status != MemberStatus.Up)
        {
            if (waited.Elapsed > s_startTimeout)
            {
                throw new CliException($"node did not join the cluster within {s_startTimeout.TotalSeconds} s (status {cluster.SelfMember.Status}); are the seeds up?");
            }
            Thread.Sleep(100);
        }
        log($"member up at {cluster.SelfAddress}");
    }

    /// <summary>Creates the volume unless it exists with this spec; waits (bounded) while the cluster's drives register.</summary>
    private static void EnsureVolume(IActorRef volumes, VolumeName name, VolumeSpec spec, Action<string> log)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            IVolumeReply reply;
            try
            {
                reply = volumes.Ask<IVolumeReply>(new CreateVolume(name, spec), s_askTimeout).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                reply = new VolumeCommandRefused(name, VolumeRefusal.Busy, "no answer from the volume entity");
            }
            switch (reply)
            {
                case VolumeStateReply r:
                    log($"volume {name}: ready, {r.View.Groups.Length} groups, epoch {r.View.Epoch}");
                    return;
                case VolumeCommandRefused { Code: VolumeRefusal.NoCapacity or VolumeRefusal.Busy } r when waited.Elapsed < s_startTimeout:
                    log($"volume {name}: not yet ({r.Reason}); retrying");
                    Thread.Sleep(1000);
                    continue;
                case VolumeCommandRefused r:
                    throw new CliException($"volume {name}: {r.Code}: {r.Reason}");
            }
        }
    }

    /// <summary>
    /// Attaches the volume with this node's writer id for it (kept in the data directory, so a restarted node comes
    /// back as the same writer and needs no force), retrying while the volume entity is not reachable.
    /// </summary>
    private static VolumeEngine AttachVolume(NodeOptions options, ClusterKey key, IActorRef volumes, IActorRef directory, VolumeName name, Action<string> log)
    {
        WriterId writer = WriterIdFor(options.DataDir, name);
        var control = new ActorVolumeControl(name, new NodeId(options.Name), writer, volumes, directory, s_askTimeout, log) { Force = options.ForceAttach };
        var engineOptions = new EngineOptions { ResyncBytesPerSecond = options.ResyncBytesPerSecond };
        var waited = Stopwatch.StartNew();
        while (true)
        {
            VolumeEngine? engine = null;
            try
            {
                IVolumeReply reply = volumes.Ask<IVolumeReply>(new GetVolume(name), s_askTimeout).GetAwaiter().GetResult();
                if (reply is not VolumeStateReply { View.Status: VolumeStatus.Ready } ready)
                {
                    throw new InvalidOperationException($"volume {name} is not ready ({reply})");
                }
                engine = new VolumeEngine(control.ToLayout(ready.View), key, control, engineOptions, log);
                engine.Start();
                return engine;
            }
            catch (Exception e) when (e is InvalidOperationException or AskTimeoutException or TaskCanceledException && waited.Elapsed < s_startTimeout)
            {
                engine?.Dispose();
                log($"volume {name}: cannot attach yet: {e.Message}");
                Thread.Sleep(1000);
            }
        }
    }

    private static WriterId WriterIdFor(string dataDir, VolumeName name)
    {
        string dir = Path.Combine(dataDir, "writers");
        System.IO.Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name.Value + ".id");
        if (File.Exists(path) && ulong.TryParse(File.ReadAllText(path).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong existing) && existing != 0)
        {
            return new WriterId(existing);
        }
        ulong value;
        do
        {
            value = BitConverter.ToUInt64(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));
        }
        while (value == 0);
        File.WriteAllText(path, value.ToString("x16", CultureInfo.InvariantCulture));
        return new WriterId(value);
    }

    private static object Stats(List<VolumeEngine> engines, TargetServer? target, ActorSystem system) => new
    {
        members = Cluster.Get(system).State.Members.Select(m => $"{m.Address}:{m.Status}").ToArray(),
        unreachable = Cluster.Get(system).State.Unreachable.Select(m => m.Address.ToString()).ToArray(),
        volumes = engines.Select(e => new
        {
            name = e.Name,
            epoch = e.Layout.Epoch,
            legs = e.Layout.Groups.Select(g => g.Legs.Select(l => $"{l.Target}/{l.Drive}/{l.Segment}:{l.State}").ToArray()).ToArray(),
            resyncBytes = e.Counters.ResyncBytes,
            resyncRegions = e.Counters.ResyncRegions,
            rebuilds = RebuildStats.Of(system, e.Name),
        }).ToArray(),
        target = target == null ? null : new { reads = target.Counters.Reads, writes = target.Counters.Writes, rejected = target.Counters.Rejected, fences = target.Counters.Fences },
    };
}
