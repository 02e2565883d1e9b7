using System.Net;
using Shoal.DataPath.Drives;
using Shoal.DataPath.Target;
using Shoal.DataPath.Wire;
using Shoal.Host.Cli;
using Shoal.Management.Cli;

namespace Shoal.Host.Static;

/// <summary><c>shoal target</c>: serve local drives' segments over the wire protocol (static-layout mode).</summary>
internal static class TargetCommand
{
    public const string Usage =
        "shoal target --name NAME --listen HOST:PORT --drive PATH [--drive PATH ...] --cluster-key-file FILE\n" +
        "             [--create-size SIZE] [--segment-size SIZE] [--region-size SIZE] [--force-format] [--no-checksums]\n" +
        "             [--poll-spin-us N] [--stats-file FILE]";

    public static int Run(IReadOnlyList<string> argv)
    {
        CliArgs args = CliArgs.Parse(argv,
            new HashSet<string> { "name", "listen", "drive", "cluster-key-file", "create-size", "segment-size", "region-size", "poll-spin-us", "stats-file" },
            new HashSet<string> { "force-format", "no-checksums" });
        string name = args.Required("name");
        IPEndPoint listen = Endpoint(args.Required("listen"));
        IReadOnlyList<string> drivePaths = args.All("drive");
        if (drivePaths.Count == 0)
        {
            throw new CliException("at least one --drive is required");
        }
        ClusterKey key = ClusterKey.Load(args.Required("cluster-key-file"));
        var driveOptions = new DriveOpenOptions
        {
            ClusterId = key.ClusterId,
            CreateBytes = args.Size("create-size", 0),
            SegmentBytes = args.Size("segment-size", DriveOpenOptions.DefaultSegmentBytes),
            RegionBytes = (int)Math.Min(int.MaxValue, args.Size("region-size", DriveOpenOptions.DefaultRegionBytes)),
            ForceFormat = args.Flag("force-format"),
            // Formats new drives without block checksums (format 1; for comparison runs). An existing drive keeps its format.
            Checksums = !args.Flag("no-checksums"),
        };
        var options = new TargetOptions { PollSpinMicros = args.Int("poll-spin-us", new TargetOptions().PollSpinMicros, 0, 10_000) };
        Action<string> log = Log.For($"target {name}");

        var drives = new List<DriveStore>();
        try
        {
            foreach (string path in drivePaths)
            {
                drives.Add(DriveStore.Open(path, driveOptions, log));
            }
        }
        catch (Exception e) when (e is DriveException or ArgumentOutOfRangeException or IOException)
        {
            foreach (DriveStore d in drives)
            {
                d.Dispose();
            }
            throw new CliException(e.Message);
        }

        using var server = new TargetServer(name, drives, key, options, log);
        server.Start(listen);
        using var lifetime = new ProcessLifetime(args.Optional("stats-file"), () => new
        {
            reads = server.Counters.Reads,
            writes = server.Counters.Writes,
            rejected = server.Counters.Rejected,
            badFrames = server.Counters.BadFrames,
            handshakeFailures = server.Counters.HandshakeFailures,
            checksumFailures = drives.Sum(d => Interlocked.Read(ref d.Counters.ChecksumFailures)),
        });
        Log.Announce($"shoal target ready name={name} listen={server.LocalEndPoint} drives={drives.Count} segments={drives.Sum(d => d.Superblock.SegmentCount)}");
        lifetime.WaitForStop();
        log("stopping");
        foreach (DriveStore d in drives)
        {
            d.Flush();
        }
        return 0;
    }

    public static IPEndPoint Endpoint(string text)
    {
        try
        {
            return Shoal.DataPath.Transport.TargetLink.ParseEndpoint(text);
        }
        catch (Exception e) when (e is FormatException or System.Net.Sockets.SocketException)
        {
            throw new CliException($"'{text}' is not a HOST:PORT address ({e.Message})");
        }
    }
}
