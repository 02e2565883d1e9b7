using System.Diagnostics;
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
using Shoal.Management.Cli;
using Shoal.Host.Static;
using Shoal.Management.Gateway;

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

    public static int Run(IReadOnlyList<string> argv, Action? ready = null)
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
        GatewayServer? gateway = null;
        var attached = new AttachedEngines();
        try
        {
            (string adminToken, string readToken) = options.IsManagement
                ? (TokenFiles.LoadOrCreate(options.AdminTokenFile), TokenFiles.LoadOrCreate(options.ReadTokenFile))
                : ("", "");
            if (options.IsTarget)
            {
                target = StartTarget(options, key, drives, log);
            }
            if (options.IsClient)
            {
                nbd = new NbdServer([], 0, log);
                nbd.ListenUnix(options.NbdSocket);
                if (options.NbdListen != null)
                {
                    nbd.ListenTcp(options.NbdListen);
                }
            }
            var entities = new EntityOptions
            {
                DriveHealth = new DriveHealthOptions { OutAfter = options.OutAfter, MaintenanceWindow = options.MaintenanceWindow },
                Volume = new VolumeActorOptions { SegmentBytes = options.SegmentBytes },
                Placement = () => new CopysetPlacement(new Random()),
            };
            TargetServer? server = target;
            NbdServer? exports = nbd;
            host = new HostBuilder()
                .ConfigureServices(services => services.AddShoalControlPlane(options.ControlPlane(), (builder, _) =>
                {
                    builder.WithShoalEntities(entities);
                    if (server != null)
                    {
                        var agent = new TargetAgentOptions(new NodeId(options.Name), options.Domain, options.DriveClass, $"{options.DataListen!.Address}:{server.LocalEndPoint!.Port}")
                        {
                            OpenDrive = (path, createBytes) => AddedDrives.Open(options, key, path, createBytes, log),
                        };
                        builder.WithActors((system, registry) =>
                            system.ActorOf(Props.Create(() => new TargetAgent(agent, server, registry.Get<DriveRegion>())), TargetAgent.Name));
                    }
                    if (exports != null)
                    {
                        string uri = exports.TcpEndPoint is { } tcp ? $"nbd://{tcp}/{{0}}" : $"nbd+unix:///{{0}}?socket={options.NbdSocket}";
                        var client = new ClientAgentOptions(new NodeId(options.Name), options.DataDir, key,
                            new EngineOptions { ResyncBytesPerSecond = options.ResyncBytesPerSecond, MaxWireVersion = options.WireProtocol }, uri)
                        {
                            AskTimeout = s_askTimeout,
                            Remember = (volume, isAttached) => RememberedAttachments.Set(options.DataDir, volume, isAttached),
                        };
                        builder.WithActors((system, registry) => registry.Register<ClientAgentKey>(system.ActorOf(
                            Props.Create(() => new ClientAgent(client, exports, registry.Get<VolumeRegion>(), registry.Get<DriveDirectory>(), attached)), ClientAgent.Name)));
                    }
                }))
                .Build();
            host.Start();
            ActorSystem system = host.Services.GetRequiredService<ActorSystem>();
            WaitUntilUp(system, log);
            ActorRegistry registry = ActorRegistry.For(system);
            foreach ((VolumeName name, VolumeSpec spec) in options.Volumes)
            {
                EnsureVolume(registry.Get<CatalogRegion>(), registry.Get<VolumeRegion>(), name, spec, log);
            }
            foreach (VolumeName name in options.Attach)
            {
                AttachVolume(registry.Get<ClientAgentKey>(), name, options.ForceAttach, log);
            }
            if (options.IsClient)
            {
                ReattachRemembered(registry.Get<ClientAgentKey>(), options, log);
            }
            if (options.IsManagement)
            {
                gateway = GatewayServer.Create(system, new GatewayOptions
                {
                    Listen = options.HttpListen,
                    AdminToken = adminToken,
                    ReadToken = readToken,
                    NodeName = options.Name,
                    DefaultDriveClass = options.DriveClass,
                    DefaultSpread = options.Spread,
                }, log);
                StartGateway(gateway, options);
            }
            using var lifetime = new ProcessLifetime(options.StatsFile, () => Stats(attached, target, system));
            // Downed by the cluster (a partition's minority, or paused past downing): the actor system shuts down and
            // the node stops with it, so nothing keeps serving from a node the cluster no longer counts.
            ProcessLifetime running = lifetime;
            system.WhenTerminated.ContinueWith(_ =>
            {
                try
                {
                    log("the actor system terminated (an orderly stop, or downed by the cluster): stopping");
                    running.Stop();
                }
                catch (ObjectDisposedException)
                {
                    // an orderly stop got there first
                }
            }, TaskScheduler.Default);
            Log.Announce($"shoal node ready name={options.Name} akka={options.Akka} roles={string.Join(',', options.Roles.Order())} wire-protocol={options.WireProtocol}" +
                (target != null ? $" data={target.LocalEndPoint}" : "") +
                (nbd != null ? $" nbd={nbd.TcpEndPoint?.ToString() ?? options.NbdSocket} exports={string.Join(',', attached.Snapshot.Select(e => e.Name))}" : "") +
                (gateway != null ? $" api=http://{gateway.EndPoint}{GatewayServer.ApiBase} gui=http://{gateway.EndPoint}/" : ""));
            ready?.Invoke();
            lifetime.WaitForStop();
            log("stopping");
            return 0;
        }
        finally
        {
            gateway?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (host != null)
            {
                // The client agent stops its engines when the actor system stops.
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                host.StopAsync(stop.Token).GetAwaiter().GetResult();
                host.Dispose();
            }
            nbd?.Dispose();
            target?.Dispose();
            // The target's list includes drives added while running.
            foreach (DriveStore drive in target?.Drives ?? (IReadOnlyList<DriveStore>)drives)
            {
                drive.Flush();
                drive.Dispose();
            }
        }
    }

    private static void StartGateway(GatewayServer gateway, NodeOptions options)
    {
        try
        {
            gateway.StartAsync().GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            throw new CliException($"--http-listen {options.HttpListen}: {e.Message}");
        }
    }

    private static TargetServer StartTarget(NodeOptions options, ClusterKey key, List<DriveStore> drives, Action<string> log)
    {
        foreach ((string path, long createBytes) in options.Drives.Concat(AddedDrives.Read(options.DataDir).Where(a => !options.Drives.Any(d => Path.GetFullPath(d.Path) == a.Path))))
        {
            try
            {
                drives.Add(DriveStore.Open(path, new DriveOpenOptions
                {
                    ClusterId = key.ClusterId,
                    CreateBytes = createBytes,
                    SegmentBytes = options.SegmentBytes,
                    Checksums = options.Checksums,
                }, log));
            }
            catch (Exception e) when (e is DriveException or ArgumentOutOfRangeException or IOException)
            {
                throw new CliException($"drive {path}: {e.Message}");
            }
        }
        var server = new TargetServer(options.Name, drives, key, new TargetOptions { MaxWireVersion = options.WireProtocol }, log);
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
    private static void EnsureVolume(IActorRef catalog, IActorRef volumes, VolumeName name, VolumeSpec spec, Action<string> log)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            IVolumeReply reply;
            try
            {
                // Cataloged first, so the volume is always listed (the gateway creates the same way).
                if (catalog.Ask<object>(new CatalogVolume(name), s_askTimeout).GetAwaiter().GetResult() is CatalogRefused refused)
                {
                    throw new CliException($"volume {name}: {refused.Reason}");
                }
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
    /// Attaches again, in the background, the volumes attached at run time before the node stopped (an attach helper
    /// waits for their exports): one that cannot be attached any more must not keep the node from starting. Never
    /// forced: a volume another node has attached since stays theirs and is forgotten here, as is one deleted meanwhile.
    /// </summary>
    private static void ReattachRemembered(IActorRef agent, NodeOptions options, Action<string> log)
    {
        VolumeName[] remembered = [.. RememberedAttachments.Read(options.DataDir).Where(v => !options.Attach.Contains(v))];
        if (remembered.Length == 0)
        {
            return;
        }
        log($"attaching again the volumes attached before the last stop: {string.Join(", ", remembered)}");
        Task.Run(() =>
        {
            foreach (VolumeName name in remembered)
            {
                try
                {
                    AttachVolume(agent, name, force: false, log, forget: () => RememberedAttachments.Set(options.DataDir, name, false));
                }
                catch (CliException e)
                {
                    log(e.Message);
                }
            }
        });
    }

    /// <summary>
    /// Attaches the volume through this node's client agent (with this node's writer id for it, kept in the data
    /// directory, so a restarted node comes back as the same writer and needs no force), retrying while the volume
    /// entity is not reachable or the cluster's drives are still registering.
    /// </summary>
    private static void AttachVolume(IActorRef agent, VolumeName name, bool force, Action<string> log, Action? forget = null)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            object reply;
            try
            {
                reply = agent.Ask<object>(new AttachLocal(name, force), s_askTimeout + s_askTimeout).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                reply = new LocalCommandRefused(name, default, VolumeRefusal.Busy, "no answer from the client agent");
            }
            switch (reply)
            {
                case LocalAttachment a:
                    log($"volume {name}: attached at epoch {a.Epoch}, exported at {a.NbdUri}");
                    return;
                case LocalCommandRefused { Code: VolumeRefusal.NotFound or VolumeRefusal.Attached } r when forget != null:
                    log($"volume {name}: {r.Reason}; not attaching it again");
                    forget();
                    return;
                case LocalCommandRefused r when waited.Elapsed < s_startTimeout:
                    log($"volume {name}: cannot attach yet ({r.Code}): {r.Reason}");
                    Thread.Sleep(1000);
                    continue;
                case LocalCommandRefused r:
                    throw new CliException($"volume {name}: attach refused ({r.Code}): {r.Reason}");
            }
        }
    }

    private static object Stats(AttachedEngines attached, TargetServer? target, ActorSystem system) => new
    {
        members = Cluster.Get(system).State.Members.Select(m => $"{m.Address}:{m.Status}").ToArray(),
        unreachable = Cluster.Get(system).State.Unreachable.Select(m => m.Address.ToString()).ToArray(),
        volumes = attached.Snapshot.Select(e => new
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
