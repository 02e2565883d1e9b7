using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Shoal.Management.Api;
using Shoal.Management.Gateway;

namespace Shoal.Management.Cli;

/// <summary>
/// The operator's palettes, in the spirit of pbm: <c>shoal cluster|node|drive|volume ...</c>, talking to a management
/// node's REST gateway. Tables by default, <c>--json</c> for scripts, a progress bar with <c>--wait</c>. Exit 0 on
/// success, 1 with a one-line reason when the gateway refuses or cannot be reached, 2 on a usage error.
/// </summary>
public static class ManagementCli
{
    public const string Usage =
        "shoal cluster show | leave NODE|HOST:PORT | down NODE|HOST:PORT | sharding regions | sharding stats\n" +
        "  shoal node list | drain NODE [--wait] | undrain NODE | maintenance NODE on|off [--wait]\n" +
        "  shoal upgrade plan\n" +
        "  shoal drive list | show ID | add NODE PATH [--size SIZE] | remove ID [--force] | evacuate ID [--wait] | undrain ID\n" +
        "  shoal volume list | show NAME [--wait] | create NAME --layout concat|stripe|mirror|stripe-mirror --size SIZE\n" +
        "               [--legs N] [--stripe-width N] [--stripe-unit SIZE] [--spread drive|node|rack|zone] [--drive-class C]\n" +
        "             | grow NAME --size SIZE | delete NAME | attach NAME [--node N] [--force] | detach NAME [--node N] [--force]\n" +
        "             | scrub NAME [--wait]\n" +
        "  common options: --api URL (or $SHOAL_API; default http://127.0.0.1:8080/api/v1), --token-file FILE\n" +
        "                  (or $SHOAL_TOKEN, $SHOAL_TOKEN_FILE; default ./.shoal/admin.token), --json, --timeout SECONDS";

    public static readonly IReadOnlySet<string> Palettes = new HashSet<string> { "cluster", "node", "drive", "volume", "upgrade" };

    /// <summary>The node palette's verbs (<c>shoal node start</c> is the daemon, not the CLI).</summary>
    public static readonly IReadOnlySet<string> NodeVerbs = new HashSet<string> { "list", "drain", "undrain", "maintenance" };

    private static readonly HashSet<string> s_common = ["api", "token-file", "timeout"];

    public static int Run(string palette, IReadOnlyList<string> argv, TextWriter output, TextWriter error)
    {
        string verb = argv.Count > 0 ? argv[0] : "";
        try
        {
            return RunAsync(palette, argv, output).GetAwaiter().GetResult();
        }
        catch (CliException e)
        {
            error.WriteLine($"shoal {palette} {verb}: {e.Message}");
            return 2;
        }
        catch (ApiCallException e)
        {
            error.WriteLine($"shoal {palette} {verb}: {e.Message}");
            return 1;
        }
    }

    private static async Task<int> RunAsync(string palette, IReadOnlyList<string> argv, TextWriter output)
    {
        // Words before the first option are the verb and its operands.
        List<string> words = [.. argv.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal))];
        List<string> options = [.. argv.Skip(words.Count)];
        string command = string.Join(' ', [palette, .. words.Take(palette == "cluster" && words.FirstOrDefault() == "sharding" ? 2 : 1)]);
        List<string> operands = [.. words.Skip(command.Split(' ').Length - 1)];
        (HashSet<string> values, HashSet<string> flags, int operandCount) = command switch
        {
            "cluster show" or "cluster sharding regions" or "cluster sharding stats" or "node list" or "drive list" or "volume list" or "upgrade plan" => (s_common, Flags(), 0),
            "cluster leave" or "cluster down" or "drive show" or "volume delete" or "node undrain" or "drive undrain" => (s_common, Flags(), 1),
            "node drain" or "drive evacuate" => (s_common, Flags("wait"), 1),
            "drive add" => ([.. s_common, "size"], Flags(), 2),
            "node maintenance" => (s_common, Flags("wait"), 2),
            "drive remove" => (s_common, Flags("force"), 1),
            "volume show" or "volume scrub" => (s_common, Flags("wait"), 1),
            "volume create" => ([.. s_common, "layout", "size", "legs", "stripe-width", "stripe-unit", "spread", "drive-class"], Flags("wait"), 1),
            "volume grow" => ([.. s_common, "size"], Flags(), 1),
            "volume attach" or "volume detach" => ([.. s_common, "node"], Flags("force"), 1),
            _ => throw new CliException($"unknown command 'shoal {string.Join(' ', [palette, .. words])}'; usage:\n  " + Usage),
        };
        flags.Add("json");
        if (operands.Count != operandCount)
        {
            throw new CliException(operandCount switch
            {
                0 => $"'{command}' takes no operands",
                1 => $"'{command}' needs exactly 1 operand (a name)",
                _ => $"'{command}' needs {operandCount} operands",
            });
        }
        CliArgs args = CliArgs.Parse(options, values, flags);
        bool json = args.Flag("json");
        int timeoutSeconds = args.Int("timeout", 3600, 1, 7 * 24 * 3600);
        using var api = new ApiClient(Api(args), Token(args), TimeSpan.FromSeconds(Math.Min(timeoutSeconds, 60)));
        string name = operands.Count > 0 ? Uri.EscapeDataString(operands[0]) : "";
        switch (command)
        {
            case "cluster show":
                {
                    ClusterDto c = await api.Get<ClusterDto>("/cluster");
                    Print(output, json, c, () =>
                    {
                        var t = new Table("NODE", "ADDRESS", "STATUS", "REACHABLE", "ROLES", "LEADER");
                        foreach (MemberDto m in c.Members)
                        {
                            t.Row(m.Name, m.Address, m.Status, m.Reachable ? "yes" : "NO", string.Join(',', m.Roles), m.Address == c.Leader ? "*" : "");
                        }
                        return t.ToString();
                    });
                    return 0;
                }
            case "cluster leave" or "cluster down":
                {
                    ClusterDto c = await api.Post<ClusterDto>("/cluster/" + command.Split(' ')[1], new AddressRequest(operands[0]));
                    Print(output, json, c, () => $"{command.Split(' ')[1]}: {operands[0]} (asked)\n");
                    return 0;
                }
            case "cluster sharding regions" or "cluster sharding stats":
                {
                    ShardingDto s = await api.Get<ShardingDto>("/cluster/sharding");
                    Print(output, json, s, () =>
                    {
                        bool stats = command.EndsWith("stats", StringComparison.Ordinal);
                        Table t = stats ? new Table("TYPE", "REGION", "SHARDS", "ENTITIES") : new Table("TYPE", "REGION");
                        foreach (ShardTypeDto type in s.Types)
                        {
                            foreach (ShardRegionDto r in type.Regions)
                            {
                                _ = stats ? t.Row(type.TypeName, r.Address, r.Shards, r.Entities) : t.Row(type.TypeName, r.Address);
                            }
                        }
                        return t.ToString();
                    });
                    return 0;
                }
            case "node list":
                {
                    NodeDto[] nodes = await api.Get<NodeDto[]>("/nodes");
                    Print(output, json, nodes, () =>
                    {
                        var t = new Table("NODE", "STATUS", "REACHABLE", "ROLES", "DRIVES", "CAPACITY", "FREE", "DRAINING", "MAINTENANCE");
                        foreach (NodeDto n in nodes)
                        {
                            t.Row(n.Name, n.Status, n.Reachable ? "yes" : "NO", string.Join(',', n.Roles), n.Drives, Bytes(n.CapacityBytes), Bytes(n.FreeBytes),
                                n.Draining ? "yes" : "no", n.Maintenance ? "yes" : "no");
                        }
                        return t.ToString();
                    });
                    return 0;
                }
            case "node drain" or "node undrain":
                {
                    string verb = command.Split(' ')[1];
                    NodeDto n = await api.Post<NodeDto>($"/nodes/{name}/{verb}", null);
                    if (verb == "drain" && args.Flag("wait"))
                    {
                        await WaitEmpty(output, json, $"node {n.Name}", n.AllocatedSegments, TimeSpan.FromSeconds(timeoutSeconds),
                            async () => (await api.Get<NodeDto[]>("/nodes")).FirstOrDefault(x => x.Name == n.Name)?.AllocatedSegments ?? 0);
                    }
                    Print(output, json, n, () => $"node {n.Name}: {(n.Draining ? "draining" : "not draining")}, {n.AllocatedSegments} segments on its drives\n");
                    return 0;
                }
            case "node maintenance":
                {
                    bool on = operands[1] switch
                    {
                        "on" => true,
                        "off" => false,
                        var other => throw new CliException($"maintenance is 'on' or 'off', not '{other}'"),
                    };
                    if (!on && args.Flag("wait"))
                    {
                        await WaitNodeBack(api, operands[0], output, json, TimeSpan.FromSeconds(timeoutSeconds));
                    }
                    NodeDto n = await api.Post<NodeDto>($"/nodes/{name}/maintenance", new MaintenanceRequest(on));
                    Print(output, json, n, () => n.Maintenance
                        ? $"node {n.Name}: in maintenance, out-after held on its {n.Drives} drive(s); stop it, upgrade it, start it, then: shoal node maintenance {n.Name} off --wait\n"
                        : $"node {n.Name}: out of maintenance\n");
                    return 0;
                }
            case "upgrade plan":
                {
                    UpgradePlanDto plan = await api.Get<UpgradePlanDto>("/upgrade/plan");
                    Print(output, json, plan, () =>
                    {
                        var t = new Table("ORDER", "NODE", "ROLES", "LEGS", "MAINTENANCE", "MAY GO", "REASON");
                        foreach (UpgradeStepDto step in plan.Steps)
                        {
                            t.Row(step.Order, step.Node, string.Join(',', step.Roles), step.Legs, step.Maintenance ? "yes" : "no", step.Refusals.IsEmpty ? "yes" : "NO", step.Reason);
                        }
                        var text = new System.Text.StringBuilder(t.ToString());
                        foreach (UpgradeStepDto step in plan.Steps.Where(s => !s.Refusals.IsEmpty))
                        {
                            text.Append(CultureInfo.InvariantCulture, $"{step.Node} may not go now: {string.Join("; ", step.Refusals)}\n");
                        }
                        text.Append("each node in turn: shoal node maintenance NODE on; stop it; replace the binary; start it; shoal node maintenance NODE off --wait\n");
                        return text.ToString();
                    });
                    return 0;
                }
            case "drive evacuate" or "drive undrain":
                {
                    string verb = command.Split(' ')[1];
                    DriveDto d = await api.Post<DriveDto>($"/drives/{name}/{verb}", null);
                    if (verb == "evacuate" && args.Flag("wait"))
                    {
                        await WaitEmpty(output, json, $"drive {d.Id}", d.AllocatedSegments + d.ReleasingSegments, TimeSpan.FromSeconds(timeoutSeconds),
                            async () => await api.Get<DriveDto>("/drives/" + name) is var x ? x.AllocatedSegments + x.ReleasingSegments : 0);
                        d = await api.Get<DriveDto>("/drives/" + name);
                    }
                    Print(output, json, d, () => $"drive {d.Id}: {(d.Draining ? "draining" : "not draining")}, {d.AllocatedSegments} segments allocated, {d.ReleasingSegments} releasing\n");
                    return 0;
                }
            case "drive add":
                {
                    DriveDto d = await api.Post<DriveDto>("/drives", new AddDriveRequest(operands[0], Path.GetFullPath(operands[1]),
                        args.Optional("size") is { } size ? Sizes.Parse(size, "--size") : null));
                    Print(output, json, d, () => DriveTable([d]));
                    return 0;
                }
            case "drive list":
                {
                    DriveDto[] drives = await api.Get<DriveDto[]>("/drives");
                    Print(output, json, drives, () => DriveTable(drives));
                    return 0;
                }
            case "drive show":
                {
                    DriveDto d = await api.Get<DriveDto>("/drives/" + name);
                    Print(output, json, d, () => DriveTable([d]));
                    return 0;
                }
            case "drive remove":
                {
                    DriveDto d = await api.Delete<DriveDto>($"/drives/{name}?force={(args.Flag("force") ? "true" : "false")}");
                    Print(output, json, d, () => $"drive {d.Id}: {d.Status}\n");
                    return 0;
                }
            case "volume list":
                {
                    VolumeDto[] volumes = await ListAllVolumes(api);
                    Print(output, json, volumes, () =>
                    {
                        var t = new Table("NAME", "LAYOUT", "SIZE", "HEALTH", "EPOCH", "ATTACHED", "REBUILD");
                        foreach (VolumeDto v in volumes)
                        {
                            t.Row(v.Name, Layout(v), Bytes(v.SizeBytes), v.Health, v.Epoch, string.Join(',', v.Attachments.Select(a => a.Node)) is { Length: > 0 } at ? at : "-",
                                v.Rebuild is { } r ? $"{r.Percent:0.0}%" : "-");
                        }
                        return t.ToString();
                    });
                    return 0;
                }
            case "volume show":
                {
                    VolumeDto v = await api.Get<VolumeDto>("/volumes/" + name);
                    if (args.Flag("wait"))
                    {
                        v = await WaitHealthy(api, name, output, json, TimeSpan.FromSeconds(timeoutSeconds));
                    }
                    ScrubDto? integrity = v.Attachments.Length > 0 && !json ? await TryIntegrity(api, name) : null;
                    Print(output, json, v, () => VolumeText(v) + (integrity is { } i ? IntegrityText(i) : ""));
                    return 0;
                }
            case "volume scrub":
                {
                    ScrubDto s = await api.Post<ScrubDto>($"/volumes/{name}/scrub", null);
                    if (!args.Flag("wait"))
                    {
                        Print(output, json, s, () => $"volume {s.Volume}: scrub {(s.Started ? "started" : "already " + s.State)} on {s.Node}\n");
                        return 0;
                    }
                    s = await WaitScrub(api, name, output, json, TimeSpan.FromSeconds(timeoutSeconds));
                    Print(output, json, s, () => ScrubSummary(s) + "\n");
                    return s.State == "done" && s.UnrepairableBlocks == 0 ? 0 : 1;
                }
            case "volume create":
                {
                    var request = new CreateVolumeRequest(operands[0], args.Required("layout"), Sizes.Parse(args.Required("size"), "--size"),
                        args.Optional("legs") is null ? null : args.Int("legs", 0, 1, 3),
                        args.Optional("stripe-width") is null ? null : args.Int("stripe-width", 0, 1, 64),
                        args.Optional("stripe-unit") is { } unit ? checked((int)Sizes.Parse(unit, "--stripe-unit")) : null,
                        args.Optional("drive-class"), args.Optional("spread"));
                    VolumeDto v = await api.Post<VolumeDto>("/volumes", request);
                    Print(output, json, v, () => VolumeText(v));
                    return 0;
                }
            case "volume grow":
                {
                    VolumeDto v = await api.Post<VolumeDto>($"/volumes/{name}/grow", new GrowVolumeRequest(Sizes.Parse(args.Required("size"), "--size")));
                    Print(output, json, v, () => VolumeText(v));
                    return 0;
                }
            case "volume delete":
                {
                    VolumeDto v = await api.Delete<VolumeDto>("/volumes/" + name);
                    Print(output, json, v, () => $"volume {v.Name}: {v.Status} (its segments are freed as their targets confirm)\n");
                    return 0;
                }
            case "volume attach":
                {
                    AttachmentResult a = await api.Post<AttachmentResult>($"/volumes/{name}/attach", new AttachRequest(args.Optional("node"), args.Flag("force")));
                    Print(output, json, a, () => $"volume {a.Volume}: attached on {a.Node} at epoch {a.Epoch}\n{a.NbdUri}\n");
                    return 0;
                }
            case "volume detach":
                {
                    VolumeDto v = await api.Post<VolumeDto>($"/volumes/{name}/detach", new DetachRequest(args.Optional("node"), args.Flag("force")));
                    Print(output, json, v, () => $"volume {v.Name}: detached (epoch {v.Epoch})\n");
                    return 0;
                }
            default:
                throw new UnreachableException(command);
        }
    }

    private static HashSet<string> Flags(params string[] names) => [.. names];

    /// <summary>The options every command that talks to the gateway takes (<c>--api</c>, <c>--token-file</c>, <c>--timeout</c>).</summary>
    public static IReadOnlySet<string> CommonOptions => s_common;

    /// <summary>A client for the gateway named by <c>--api</c> (or its defaults), with the token from <c>--token-file</c> (or its defaults).</summary>
    public static ApiClient Connect(CliArgs args, TimeSpan timeout) => new(Api(args), Token(args), timeout);

    private static string Api(CliArgs args) =>
        args.Optional("api") ?? Environment.GetEnvironmentVariable("SHOAL_API") ?? "http://127.0.0.1:8080" + GatewayServer.ApiBase;

    private static string Token(CliArgs args)
    {
        if (args.Optional("token-file") is null && Environment.GetEnvironmentVariable("SHOAL_TOKEN") is { Length: > 0 } token)
        {
            return token.Trim();
        }
        string file = args.Optional("token-file") ?? Environment.GetEnvironmentVariable("SHOAL_TOKEN_FILE") ?? Path.Combine(".shoal", "admin.token");
        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"no token: set SHOAL_TOKEN or pass --token-file ({file}: {e.Message})");
        }
    }

    private static void Print<T>(TextWriter output, bool json, T document, Func<string> table)
    {
        output.Write(json ? JsonSerializer.Serialize(document, ApiJson.Options) + "\n" : table());
    }

    /// <summary>Polls the volume until every leg is in sync, drawing a progress bar of its rebuild (one line per poll when not a terminal).</summary>
    private static async Task<VolumeDto> WaitHealthy(ApiClient api, string name, TextWriter output, bool json, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        bool drawn = false;
        while (true)
        {
            VolumeDto v = await api.Get<VolumeDto>("/volumes/" + name);
            if (v.Health == "healthy")
            {
                if (drawn && !json)
                {
                    output.Write(Console.IsOutputRedirected ? "" : "\n");
                }
                return v;
            }
            if (waited.Elapsed > timeout)
            {
                throw new ApiCallException($"volume {v.Name} is still {v.Health} after {timeout.TotalSeconds:0} s");
            }
            if (!json)
            {
                string line = ProgressLine(v);
                output.Write(Console.IsOutputRedirected ? line + "\n" : "\r" + line.PadRight(78));
                drawn = true;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Polls the volume's scrub until it is done or stopped, drawing its progress.</summary>
    private static async Task<ScrubDto> WaitScrub(ApiClient api, string name, TextWriter output, bool json, TimeSpan timeout)
    {
        const int width = 30;
        var waited = Stopwatch.StartNew();
        while (true)
        {
            ScrubDto s = await api.Get<ScrubDto>($"/volumes/{name}/scrub");
            bool finished = s.State is "done" or "stopped";
            if (!json)
            {
                double done = s.TotalBlocks == 0 ? (finished ? 1 : 0) : Math.Clamp((double)s.ScannedBlocks / s.TotalBlocks, 0, 1);
                int filled = (int)(done * width);
                string line = $"{s.Volume} scrub [{new string('#', filled)}{new string('.', width - filled)}] {done * 100,5:0.0}% bad {s.BadBlocks} repaired {s.RepairedBlocks}";
                output.Write(Console.IsOutputRedirected ? line + "\n" : "\r" + line.PadRight(78) + (finished ? "\n" : ""));
            }
            if (finished)
            {
                return s;
            }
            if (waited.Elapsed > timeout)
            {
                throw new ApiCallException($"the scrub of volume {s.Volume} is still {s.State} after {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(500));
        }
    }

    private static async Task<ScrubDto?> TryIntegrity(ApiClient api, string name)
    {
        try
        {
            return await api.Get<ScrubDto>($"/volumes/{name}/scrub");
        }
        catch (ApiCallException)
        {
            return null; // an attachment on a node that does not answer: the layout is still worth showing
        }
    }

    public static string ScrubSummary(ScrubDto s) =>
        $"volume {s.Volume}: scrub {s.State} on {s.Node}: scanned {s.ScannedBlocks} blocks, bad {s.BadBlocks}, repaired {s.RepairedBlocks}, unrepairable {s.UnrepairableBlocks}";

    private static string IntegrityText(ScrubDto s) =>
        $"checksums: {s.CorruptReadsServed} read(s) served from another leg, {s.BlocksRepairedTotal} block(s) repaired, {s.UnrepairableBlocksTotal} unrepairable; " +
        (s.Runs == 0 ? "never scrubbed since attach\n" : $"last scrub {s.State}: scanned {s.ScannedBlocks}, bad {s.BadBlocks}, repaired {s.RepairedBlocks}, unrepairable {s.UnrepairableBlocks}\n");

    /// <summary>
    /// Polls until the node's drives are back online and every leg on them is in sync again (its delta resync done),
    /// printing each new state once.
    /// </summary>
    private static async Task WaitNodeBack(ApiClient api, string node, TextWriter output, bool json, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        string? last = null;
        while (true)
        {
            DriveDto[] drives = [.. (await api.Get<DriveDto[]>("/drives")).Where(d => d.Node == node && d.Status != "removed")];
            int away = drives.Count(d => d.Status != "online");
            int behind = away > 0 ? -1 : (await ListAllVolumes(api))
                .Sum(v => v.Groups.Sum(g => g.Legs.Count(l => l.Node == node && l.State != "inSync")));
            if (drives.Length > 0 && away == 0 && behind == 0)
            {
                return;
            }
            string state = drives.Length == 0 ? $"node {node}: no drives known yet"
                : away > 0 ? $"node {node}: waiting for {away} of {drives.Length} drive(s) to come back online"
                : $"node {node}: {behind} leg(s) not in sync yet (delta resync)";
            if (waited.Elapsed > timeout)
            {
                throw new ApiCallException($"{state} after {timeout.TotalSeconds:0} s");
            }
            if (!json && state != last)
            {
                output.Write(state + "\n");
                last = state;
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Polls until <paramref name="remaining"/> reaches zero, drawing the share moved so far.</summary>
    private static async Task WaitEmpty(TextWriter output, bool json, string what, int initial, TimeSpan timeout, Func<Task<int>> remaining)
    {
        const int width = 30;
        var waited = Stopwatch.StartNew();
        while (true)
        {
            int left = await remaining();
            if (!json)
            {
                double done = initial == 0 ? 1 : Math.Clamp(1 - ((double)left / initial), 0, 1);
                int filled = (int)(done * width);
                string line = $"{what} [{new string('#', filled)}{new string('.', width - filled)}] {done * 100,5:0.0}% {left} segment(s) left";
                output.Write(Console.IsOutputRedirected ? line + "\n" : "\r" + line.PadRight(78));
            }
            if (left == 0)
            {
                if (!json && !Console.IsOutputRedirected)
                {
                    output.Write("\n");
                }
                return;
            }
            if (waited.Elapsed > timeout)
            {
                throw new ApiCallException($"{what} still holds {left} segment(s) after {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    public static string ProgressLine(VolumeDto v)
    {
        const int width = 30;
        if (v.Rebuild is not { } r)
        {
            int stale = v.Groups.Sum(g => g.Legs.Count(l => l.State == "stale"));
            return $"{v.Name}: {v.Health}, {stale} stale leg(s), waiting for resync to start";
        }
        int filled = (int)Math.Clamp(r.Percent / 100 * width, 0, width);
        string eta = r.EtaSeconds is { } s ? $"eta {TimeSpan.FromSeconds(Math.Ceiling(s)):c}" : "eta -";
        return $"{v.Name} {r.Kind} [{new string('#', filled)}{new string('.', width - filled)}] {r.Percent,5:0.0}% {r.BytesPerSecond / 1e6:0.0} MB/s {eta}";
    }

    /// <summary>Every page of the volume list (the gateway answers at most 1000 a page), following its Link headers, up to a bound.</summary>
    private static async Task<VolumeDto[]> ListAllVolumes(ApiClient api)
    {
        const int MaxPages = 1000;
        var all = new List<VolumeDto>();
        string? path = "/volumes";
        for (int page = 0; page < MaxPages && path != null; page++)
        {
            (VolumeDto[] volumes, path) = await api.GetPage<VolumeDto[]>(path);
            all.AddRange(volumes);
        }
        return path == null ? [.. all] : throw new ApiCallException($"more than {MaxPages} pages of volumes; list them with the REST API's pages");
    }

    private static string Layout(VolumeDto v) => v.Layout switch
    {
        "mirror" => $"mirror:{v.Legs}",
        "stripe" => $"stripe:{v.StripeWidth}",
        "stripe-mirror" => $"stripe-mirror:{v.StripeWidth}x{v.Legs}",
        _ => v.Layout,
    };

    private static string VolumeText(VolumeDto v)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"volume {v.Name}  {Layout(v)}  {Bytes(v.SizeBytes)}  {v.Health}  epoch {v.Epoch}  spread {v.Spread}  class {v.DriveClass}\n");
        foreach (AttachmentDto a in v.Attachments)
        {
            text.Append(CultureInfo.InvariantCulture, $"attached on {a.Node} ({a.Mode}, writer {a.Writer}) since {a.Since:u}\n");
        }
        if (v.Rebuild is { } r)
        {
            text.Append(ProgressLine(v)).Append('\n');
        }
        var t = new Table("GROUP", "LEG", "NODE", "DRIVE", "SEGMENT", "STATE", "PROGRESS");
        foreach (GroupDto g in v.Groups)
        {
            foreach (LegDto l in g.Legs)
            {
                t.Row(g.Index, l.Leg, l.Node, l.Drive, l.Segment, l.State, l.Rebuild is { } lr ? $"{lr.Percent:0.0}%" : "-");
            }
        }
        return text.Append(t).ToString();
    }

    private static string DriveTable(IEnumerable<DriveDto> drives)
    {
        var t = new Table("DRIVE", "NODE", "STATUS", "CLASS", "CAPACITY", "FREE", "SEGMENTS", "ERRORS", "CRC", "PATH");
        foreach (DriveDto d in drives)
        {
            t.Row(d.Id, d.Node, d.Draining ? d.Status + ",draining" : d.Status, d.DriveClass, Bytes(d.CapacityBytes), Bytes((long)d.FreeSegments * d.SegmentBytes),
                $"{d.AllocatedSegments}/{d.SegmentCount}", d.ErrorCount, d.Checksums ? "on" : "off", d.Path);
        }
        return t.ToString();
    }

    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:0.#} {units[u]}");
    }
}
