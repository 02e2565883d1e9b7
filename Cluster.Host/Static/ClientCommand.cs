using Shoal.DataPath.Control;
using Shoal.DataPath.Nbd;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;
using Shoal.Host.Cli;
using Shoal.Management.Cli;

namespace Shoal.Host.Static;

/// <summary><c>shoal client</c>: attach a volume from a layout file and export it over NBD (static-layout mode).</summary>
internal static class ClientCommand
{
    public const string Usage =
        "shoal client --layout FILE --cluster-key-file FILE [--nbd HOST:PORT] [--nbd-unix PATH] [--read-only]\n" +
        "             [--poll-spin-us N] [--max-inflight N] [--stats-file FILE]";

    public static int Run(IReadOnlyList<string> argv)
    {
        CliArgs args = CliArgs.Parse(argv,
            new HashSet<string> { "layout", "cluster-key-file", "nbd", "nbd-unix", "poll-spin-us", "max-inflight", "stats-file" },
            new HashSet<string> { "read-only" });
        string layoutPath = args.Required("layout");
        VolumeLayout layout;
        try
        {
            layout = VolumeLayout.Load(layoutPath);
        }
        catch (Exception e) when (e is FormatException or IOException)
        {
            throw new CliException($"layout {layoutPath}: {e.Message}");
        }
        ClusterKey key = ClusterKey.Load(args.Required("cluster-key-file"));
        string? nbdTcp = args.Optional("nbd");
        string? nbdUnix = args.Optional("nbd-unix");
        if (nbdTcp == null && nbdUnix == null)
        {
            nbdTcp = "127.0.0.1:10809";
        }
        var options = new EngineOptions
        {
            PollSpinMicros = args.Int("poll-spin-us", new EngineOptions().PollSpinMicros, 0, 10_000),
            MaxInflight = args.Int("max-inflight", new EngineOptions().MaxInflight, 1, 4096),
        };
        Action<string> log = Log.For($"client {layout.Name}");

        using var engine = new VolumeEngine(layout, key, new StaticVolumeControl(layoutPath, log), options, log);
        try
        {
            engine.Start();
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(e.Message);
        }
        using var nbd = new NbdServer([new NbdExport(layout.Name, engine, args.Flag("read-only"))], options.PollSpinMicros, Log.For("nbd"));
        if (nbdTcp != null)
        {
            nbd.ListenTcp(TargetCommand.Endpoint(nbdTcp));
        }
        if (nbdUnix != null)
        {
            nbd.ListenUnix(nbdUnix);
        }
        EngineCounters c = engine.Counters;
        using var lifetime = new ProcessLifetime(args.Optional("stats-file"), () => new
        {
            reads = c.Reads,
            writes = c.Writes,
            flushes = c.Flushes,
            errors = c.Errors,
            legFailures = c.LegFailures,
            resyncBytes = c.ResyncBytes,
            resyncRegions = c.ResyncRegions,
            intentClears = c.IntentClears,
            corruptReadsServed = c.CorruptReadsServed,
            blocksRepaired = c.BlocksRepaired,
            unrepairableBlocks = c.UnrepairableBlocks,
            epoch = engine.Layout.Epoch,
            legs = engine.Layout.Groups.Select(g => g.Legs.Select(l => l.State.ToString()).ToArray()).ToArray(),
        });
        string url = nbd.TcpEndPoint != null ? $"nbd://{nbd.TcpEndPoint}/{layout.Name}" : $"nbd+unix:///{layout.Name}?socket={nbdUnix}";
        Log.Announce($"shoal client ready volume={layout.Name} size={layout.SizeBytes} nbd={url}");
        lifetime.WaitForStop();
        log("stopping");
        return 0;
    }
}
