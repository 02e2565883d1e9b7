using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Shoal.Integration.Tests;

/// <summary>
/// Hosts for the fault matrix: a bridge <c>shf-br0</c> (10.231.0.1/24) in the root namespace and one network namespace
/// per node (<c>shf-nK</c>, 10.231.0.(10+K)) on it through a veth pair, loopback up. Links are cut with iptables
/// rules inside the namespaces only (the root namespace's tables are never touched), so deleting a namespace removes
/// its rules. The machine's PostgreSQL listens on loopback only; rather than reconfigure and restart a server other
/// test runs are using, a TCP relay in the test process listens on the bridge address and forwards to loopback — the
/// journal is then "unreachable" when a namespace drops its packets to the relay. Everything created carries the
/// <c>shf-</c> prefix, and leftovers of a crashed run with that prefix are removed first.
/// </summary>
internal sealed class FaultNetwork : IDisposable
{
    public const string Prefix = "shf-";
    public const string Bridge = "shf-br0";
    public const string BridgeAddress = "10.231.0.1";
    private const string MountSource = "shf-tmpfs";
    private const int MaxNodes = 6;
    private static readonly TimeSpan s_commandTimeout = TimeSpan.FromSeconds(30);

    private readonly TcpListener _relay;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _mounts = [];
    private readonly Task _relayLoop;
    private readonly int _postgresPort;

    /// <param name="nodes">namespaces shf-n1..shf-nK</param>
    /// <param name="loopbackJournal">the PostgreSQL connection string on loopback the relay forwards to</param>
    public FaultNetwork(int nodes, string loopbackJournal)
    {
        _postgresPort = new NpgsqlConnectionStringBuilder(loopbackJournal).Port;
        Assert.True(nodes <= MaxNodes, $"at most {MaxNodes} namespaces");
        if (Environment.UserName != "root" && !string.Equals(Tool.Run("id", ["-u"], s_commandTimeout).Output.Trim(), "0", StringComparison.Ordinal))
        {
            Assert.Fail("the fault matrix needs root: it creates network namespaces, a bridge, iptables rules and tmpfs mounts");
        }
        foreach ((string tool, string package) in (ReadOnlySpan<(string, string)>)[("ip", "iproute2"), ("iptables", "iptables"), ("mount", "mount"), ("findmnt", "util-linux")])
        {
            string[] dirs = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':');
            if (!dirs.Append("/usr/sbin").Append("/sbin").Any(d => File.Exists(Path.Combine(d, tool))))
            {
                Assert.Fail($"'{tool}' is not installed (apt package {package}): run the tests with 'dotnet pwsh ./build.ps1 test', which installs it");
            }
        }
        CleanLeftovers();
        Nodes = nodes;
        try
        {
            Ip("link", "add", Bridge, "type", "bridge");
            Ip("addr", "add", BridgeAddress + "/24", "dev", Bridge);
            Ip("link", "set", Bridge, "up");
            for (int n = 1; n <= nodes; n++)
            {
                string ns = Namespace(n);
                string host = $"shf-v{n}", peer = $"shf-v{n}p";
                Ip("netns", "add", ns);
                Ip("link", "add", host, "type", "veth", "peer", "name", peer);
                Ip("link", "set", host, "master", Bridge);
                Ip("link", "set", host, "up");
                Ip("link", "set", peer, "netns", ns);
                InNamespace(n, "ip", "link", "set", "lo", "up");
                InNamespace(n, "ip", "addr", "add", Address(n) + "/24", "dev", peer);
                InNamespace(n, "ip", "link", "set", peer, "up");
            }
            _relay = new TcpListener(IPAddress.Parse(BridgeAddress), 0);
            _relay.Start();
            JournalPort = ((IPEndPoint)_relay.LocalEndpoint).Port;
            _relayLoop = Task.Run(RelayLoop);
        }
        catch
        {
            CleanLeftovers();
            throw;
        }
    }

    public int Nodes { get; }

    /// <summary>The journal relay's port on <see cref="BridgeAddress"/>.</summary>
    public int JournalPort { get; }

    public string Namespace(int n) => $"{Prefix}n{n}";

    public string Address(int n) => $"10.231.0.{10 + n}";

    /// <summary>The same database reached from the namespaces: through the relay on the bridge.</summary>
    public string JournalConnection(string loopbackConnection) =>
        new NpgsqlConnectionStringBuilder(loopbackConnection) { Host = BridgeAddress, Port = JournalPort }.ToString();

    /// <summary>Appends an iptables DROP rule to a chain of node n's namespace, e.g. <c>Drop(1, "OUTPUT", "-d", ip, "-p", "tcp")</c>.</summary>
    public void Drop(int n, string chain, params string[] match) => InNamespace(n, ["iptables", "-w", "-A", chain, .. match, "-j", "DROP"]);

    /// <summary>Removes every rule in node n's namespace.</summary>
    public void Heal(int n) => InNamespace(n, "iptables", "-w", "-F");

    public void HealAll()
    {
        for (int n = 1; n <= Nodes; n++)
        {
            Heal(n);
        }
    }

    /// <summary>Packets node n's rules dropped so far (proof the fault bit).</summary>
    public long Dropped(int n)
    {
        string text = InNamespace(n, "iptables", "-w", "-L", "-n", "-v", "-x");
        return text.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 2 && f[2] == "DROP" && long.TryParse(f[0], CultureInfo.InvariantCulture, out _))
            .Sum(f => long.Parse(f[0], CultureInfo.InvariantCulture));
    }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (e.g. "48m") on <paramref name="directory"/> (created).</summary>
    public void MountTmpfs(string directory, string size)
    {
        Directory.CreateDirectory(directory);
        Run("mount", "-t", "tmpfs", "-o", "size=" + size, MountSource, directory);
        _mounts.Add(directory);
    }

    public void ResizeTmpfs(string directory, string size) => Run("mount", "-o", "remount,size=" + size, directory);

    public string InNamespace(int n, params string[] command) => Run("ip", ["netns", "exec", Namespace(n), .. command]);

    private static void Ip(params string[] args) => Run("ip", args);

    private static string Run(string file, params string[] args)
    {
        (int code, string output) = Tool.Run(file, args, s_commandTimeout);
        if (code != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({code}): {output}");
        }
        return output;
    }

    private static (int Code, string Output) TryRun(string file, params string[] args) => Tool.Run(file, args, s_commandTimeout);

    /// <summary>
    /// Removes what a previous run left with our prefix: processes in our namespaces, the namespaces (their veth ends
    /// and rules go with them), our links and our tmpfs mounts. Nothing without the prefix is looked at.
    /// </summary>
    private static void CleanLeftovers()
    {
        foreach (string ns in TryRun("ip", "netns", "list").Output.Split('\n').Select(l => l.Split(' ')[0].Trim()).Where(l => l.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            foreach (string pid in TryRun("ip", "netns", "pids", ns).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                TryRun("kill", "-9", pid);
            }
            TryRun("ip", "netns", "del", ns);
        }
        foreach (string link in TryRun("ip", "-o", "link", "show").Output.Split('\n')
            .Select(l => l.Split(':', StringSplitOptions.TrimEntries)).Where(f => f.Length > 1).Select(f => f[1].Split('@')[0])
            .Where(l => l.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            TryRun("ip", "link", "del", link);
        }
        foreach (string target in TryRun("findmnt", "-rn", "-S", MountSource, "-o", "TARGET").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            TryRun("umount", "-l", target);
        }
    }

    private async Task RelayLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await _relay.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => Relay(inbound));
        }
    }

    private async Task Relay(TcpClient inbound)
    {
        using (inbound)
        using (var outbound = new TcpClient())
        {
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _postgresPort, _stop.Token);
                NetworkStream a = inbound.GetStream(), b = outbound.GetStream();
                // Either side closing ends both directions.
                await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // a journal connection ended (or the relay is stopping)
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _relay.Stop();
        _relayLoop.Wait(TimeSpan.FromSeconds(5));
        foreach (string mount in _mounts)
        {
            TryRun("umount", "-l", mount);
        }
        CleanLeftovers();
        _stop.Dispose();
    }
}
