using System.Net;
using System.Text;
using Shoal.Actors.Drives;
using Shoal.Actors.Hosting;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.Host.Cli;
using Shoal.Management.Cli;
using Shoal.Host.Static;
using Shoal.DataPath.Wire;

namespace Shoal.Host.Node;

/// <summary>A node's start options, parsed and validated before anything is opened or started.</summary>
internal sealed record NodeOptions
{
    public const string Usage =
        "shoal node start --name NAME --data-dir DIR --cluster-key-file FILE --akka HOST:PORT [--seed HOST:PORT ...]\n" +
        "                 [--roles target,client,management] [--journal sqlite|postgresql] [--journal-connection STRING]\n" +
        "                 [--drive PATH[=SIZE] ...] [--data-listen HOST:PORT] [--rack NAME] [--zone NAME] [--drive-class CLASS]\n" +
        "                 [--segment-size SIZE] [--no-checksums] [--nbd-listen HOST:PORT] [--volume NAME=KIND:...:SIZE ...] [--spread drive|node|rack|zone]\n" +
        "                 [--attach NAME ...] [--force-attach] [--out-after SECONDS] [--resync-rate SIZE] [--sbr-stable-after SECONDS]\n" +
        "                 [--maintenance-window SECONDS] [--wire-protocol VERSION]\n" +
        "                 [--http-listen HOST:PORT] [--admin-token-file FILE] [--read-token-file FILE] [--stats-file FILE]";

    public required string Name { get; init; }
    public required string DataDir { get; init; }
    public required string ClusterKeyFile { get; init; }
    public required IPEndPoint Akka { get; init; }
    public required IReadOnlyList<string> Seeds { get; init; }
    public required IReadOnlySet<string> Roles { get; init; }
    public required JournalKind Journal { get; init; }
    public string? JournalConnection { get; init; }
    public required IReadOnlyList<(string Path, long CreateBytes)> Drives { get; init; }
    public IPEndPoint? DataListen { get; init; }
    public required FailureDomain Domain { get; init; }
    public required string DriveClass { get; init; }
    public required long SegmentBytes { get; init; }

    /// <summary>Format new drives with a CRC32C per 4 KiB block (the default); <c>--no-checksums</c> formats format 1 drives.</summary>
    public bool Checksums { get; init; } = true;
    public IPEndPoint? NbdListen { get; init; }
    public required IReadOnlyList<(VolumeName Name, VolumeSpec Spec)> Volumes { get; init; }
    public required IReadOnlyList<VolumeName> Attach { get; init; }
    public bool ForceAttach { get; init; }
    public required TimeSpan OutAfter { get; init; }

    /// <summary>How long a drive may stay in maintenance with its out-after clock held (<see cref="DriveHealthOptions.MaintenanceWindow"/>).</summary>
    public required TimeSpan MaintenanceWindow { get; init; }

    /// <summary>
    /// Highest wire protocol version this node's target accepts and its client asks for: the previous version pins a
    /// node to what the rest of a cluster in the middle of an upgrade speaks (and emulates an older node in tests).
    /// </summary>
    public required ushort WireProtocol { get; init; }
    public required long ResyncBytesPerSecond { get; init; }
    public required TimeSpan SbrStableAfter { get; init; }
    public string? StatsFile { get; init; }
    public required FailureDomainLevel Spread { get; init; }
    public required IPEndPoint HttpListen { get; init; }
    public required string AdminTokenFile { get; init; }
    public required string ReadTokenFile { get; init; }

    public bool IsTarget => Roles.Contains("target");

    public bool IsClient => Roles.Contains("client");

    public bool IsManagement => Roles.Contains("management");

    /// <summary>The client role's NBD Unix socket (always there; TCP only with --nbd-listen).</summary>
    public string NbdSocket => Path.Combine(DataDir, "nbd.sock");

    public static NodeOptions Parse(IReadOnlyList<string> argv)
    {
        CliArgs args = CliArgs.Parse(argv,
            new HashSet<string>
            {
                "name", "data-dir", "cluster-key-file", "akka", "seed", "roles", "journal", "journal-connection", "drive", "data-listen",
                "rack", "zone", "drive-class", "segment-size", "nbd-listen", "volume", "spread", "attach", "out-after", "resync-rate",
                "sbr-stable-after", "stats-file", "http-listen", "admin-token-file", "read-token-file", "maintenance-window", "wire-protocol",
            },
            new HashSet<string> { "force-attach", "no-checksums" });
        string name = args.Required("name");
        // The name is the node's Akka role label and its data-path target name: a function role's name would make
        // every member with that role look like this node.
        if (name.Length > 63 || name.Length == 0 || !char.IsAsciiLetterOrDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            || name is "target" or "client" or "management")
        {
            throw new CliException($"node name '{name}' must be 1-63 letters, digits, '-', '_' or '.', starting with a letter or digit, and not a role name");
        }
        HashSet<string> roles = [.. (args.Optional("roles") ?? "target,client").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        foreach (string role in roles)
        {
            if (role is not ("target" or "client" or "management"))
            {
                throw new CliException($"unknown role '{role}' (roles: target, client, management)");
            }
        }
        JournalKind journal = (args.Optional("journal") ?? "sqlite") switch
        {
            "sqlite" => JournalKind.Sqlite,
            "postgresql" or "postgres" => JournalKind.PostgreSql,
            var other => throw new CliException($"--journal must be sqlite or postgresql, not '{other}'"),
        };
        FailureDomainLevel spread = (args.Optional("spread") ?? "node") switch
        {
            "drive" => FailureDomainLevel.Drive,
            "node" => FailureDomainLevel.Node,
            "rack" => FailureDomainLevel.Rack,
            "zone" => FailureDomainLevel.Zone,
            var other => throw new CliException($"--spread must be drive, node, rack or zone, not '{other}'"),
        };
        string driveClass = args.Optional("drive-class") ?? "ssd";
        var options = new NodeOptions
        {
            Name = name,
            DataDir = args.Required("data-dir"),
            ClusterKeyFile = args.Required("cluster-key-file"),
            Akka = TargetCommand.Endpoint(args.Required("akka")),
            Seeds = [.. args.All("seed").Select(s => TargetCommand.Endpoint(s)).Select(e => $"akka.tcp://{ControlPlaneHosting.ActorSystemName}@{e.Address}:{e.Port}")],
            Roles = roles,
            Journal = journal,
            JournalConnection = args.Optional("journal-connection"),
            Drives = [.. args.All("drive").Select(ParseDrive)],
            DataListen = args.Optional("data-listen") is { } dl ? TargetCommand.Endpoint(dl) : null,
            Domain = new FailureDomain(name, args.Optional("rack") ?? "rack-" + name, args.Optional("zone") ?? "zone-1"),
            DriveClass = driveClass,
            SegmentBytes = args.Size("segment-size", 64L << 20),
            Checksums = !args.Flag("no-checksums"),
            NbdListen = args.Optional("nbd-listen") is { } nl ? TargetCommand.Endpoint(nl) : null,
            Volumes = [.. args.All("volume").Select(v => VolumeSpecText.Parse(v, driveClass, spread))],
            Attach = [.. args.All("attach").Select(a => VolumeNameRules.Problem(a) is { } problem ? throw new CliException(problem) : new VolumeName(a))],
            ForceAttach = args.Flag("force-attach"),
            OutAfter = TimeSpan.FromSeconds(args.Int("out-after", 600, 1, 7 * 24 * 3600)),
            MaintenanceWindow = TimeSpan.FromSeconds(args.Int("maintenance-window", (int)new DriveHealthOptions().MaintenanceWindow.TotalSeconds, 1, 7 * 24 * 3600)),
            WireProtocol = (ushort)args.Int("wire-protocol", Handshake.MaxVersion, Handshake.MinVersion, Handshake.MaxVersion),
            ResyncBytesPerSecond = args.Size("resync-rate", 200L << 20),
            SbrStableAfter = TimeSpan.FromSeconds(args.Int("sbr-stable-after", (int)ControlPlaneOptions.DefaultSbrStableAfter.TotalSeconds, 2, 300)),
            StatsFile = args.Optional("stats-file"),
            Spread = spread,
            HttpListen = TargetCommand.Endpoint(args.Optional("http-listen") ?? "127.0.0.1:8080"),
            AdminTokenFile = args.Optional("admin-token-file") ?? Path.Combine(args.Required("data-dir"), "admin.token"),
            ReadTokenFile = args.Optional("read-token-file") ?? Path.Combine(args.Required("data-dir"), "read.token"),
        };
        if (options.IsTarget && (options.Drives.Count == 0 || options.DataListen == null))
        {
            throw new CliException("the target role needs at least one --drive and --data-listen");
        }
        if (!options.IsTarget && (options.Drives.Count > 0 || options.DataListen != null))
        {
            throw new CliException("--drive and --data-listen need the target role");
        }
        if (options.Attach.Count > 0 && !options.IsClient)
        {
            throw new CliException("--attach needs the client role");
        }
        if (options.NbdListen != null && !options.IsClient)
        {
            throw new CliException("--nbd-listen needs the client role");
        }
        if (options.IsClient && Encoding.UTF8.GetByteCount(options.NbdSocket) > 100)
        {
            throw new CliException($"the data directory's path is too long for the NBD socket {options.NbdSocket} (at most 100 bytes)");
        }
        if (journal == JournalKind.PostgreSql && string.IsNullOrWhiteSpace(options.JournalConnection))
        {
            throw new CliException("--journal postgresql needs --journal-connection");
        }
        if (options.SegmentBytes % (1 << 20) != 0)
        {
            throw new CliException("--segment-size must be a multiple of 1 MiB");
        }
        return options;
    }

    private static (string, long) ParseDrive(string text)
    {
        int eq = text.LastIndexOf('=');
        return eq < 0 ? (text, 0) : (text[..eq], Sizes.Parse(text[(eq + 1)..], $"--drive {text}"));
    }

    public ControlPlaneOptions ControlPlane() => new()
    {
        NodeName = Name,
        Roles = [.. Roles],
        BindHost = Akka.Address.ToString(),
        BindPort = Akka.Port,
        SeedNodes = Seeds,
        Journal = Journal,
        JournalConnectionString = Journal == JournalKind.Sqlite ? ControlPlaneOptions.SqliteConnectionString(DataDir) : JournalConnection,
        SbrStableAfter = SbrStableAfter,
    };
}
