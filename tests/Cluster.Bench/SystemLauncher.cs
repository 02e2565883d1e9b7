using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Shoal.Bench;

/// <summary>
/// Starts each system under test on fresh files under the scratch directory and waits until it
/// really serves NBD. Every system exports the same 512 MiB, so all of them are measured over the
/// same working set.
/// </summary>
internal sealed class SystemLauncher
{
    public const long VolumeBytes = 512L << 20;

    // Segments are 64 MiB and a drive keeps some for its own metadata: twice the volume leaves ample room.
    private const long DriveBytes = 2 * VolumeBytes;
    private const string ExportName = "vol";
    private const int PortsPerSystem = 10;
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_probeInterval = TimeSpan.FromMilliseconds(50);

    private readonly BenchOptions _options;
    private readonly string _scratchDir;
    private readonly string _keyFile;
    private readonly Action<string> _log;

    public SystemLauncher(BenchOptions options, string scratchDir, Action<string> log)
    {
        _options = options;
        _scratchDir = scratchDir;
        _log = log;
        _keyFile = Path.Combine(scratchDir, "cluster.key");
        File.WriteAllText(_keyFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n");
    }

    public async Task<BenchSystem> StartAsync(string system, CancellationToken cancel)
    {
        int firstPort = _options.PortBase + (PortsPerSystem * IndexOf(system));
        string dir = Path.Combine(_scratchDir, system);
        // Fresh files on every start, restarts included: a restarted shoal must not meet drives fenced by its predecessor.
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
        Directory.CreateDirectory(dir);
        var servers = new List<ServerProcess>();
        try
        {
            return system switch
            {
                SystemNames.Shoal => await StartShoalAsync(system, dir, legs: 1, firstPort, servers, cancel).ConfigureAwait(false),
                SystemNames.ShoalNoCrc => await StartShoalAsync(system, dir, legs: 1, firstPort, servers, cancel, checksums: false).ConfigureAwait(false),
                SystemNames.ShoalMirror2 => await StartShoalAsync(system, dir, legs: 2, firstPort, servers, cancel).ConfigureAwait(false),
                SystemNames.Nbdkit => await StartNbdkitAsync(dir, firstPort, servers, cancel).ConfigureAwait(false),
                SystemNames.QemuNbd => await StartQemuNbdAsync(dir, firstPort, servers, cancel).ConfigureAwait(false),
                _ => throw new BenchException($"unknown system {system}"),
            };
        }
        catch (Exception e)
        {
            // Nothing owns the half-started system yet: describe and stop what did start.
            string described = string.Join('\n', servers.Select(s => s.Describe()));
            for (int i = servers.Count - 1; i >= 0; i--)
            {
                servers[i].Dispose();
            }
            if (e is BenchException)
            {
                throw new BenchException($"starting {system}: {e.Message}\n{described}");
            }
            throw;
        }
    }

    private async Task<BenchSystem> StartShoalAsync(string system, string dir, int legs, int firstPort, List<ServerProcess> servers, CancellationToken cancel, bool checksums = true)
    {
        string dotnet = Tools.DotnetHost();
        var stats = new List<ShoalStatsFile>();
        var targetArgs = new List<string>();
        for (int t = 1; t <= legs; t++)
        {
            string name = $"t{t}";
            int port = firstPort + t;
            EnsurePortFree(port, $"{system} target {name}");
            string statsPath = Path.Combine(dir, $"{name}.stats.json");
            var args = new List<string>
            {
                _options.ShoalDll, "target", "--name", name, "--listen", Endpoint(port),
                "--drive", Path.Combine(dir, $"{name}-drive0.img"), "--create-size", Bytes(DriveBytes),
                "--cluster-key-file", _keyFile, "--stats-file", statsPath,
            };
            if (!checksums)
            {
                args.Add("--no-checksums");
            }
            AddPollSpin(args);
            ServerProcess target = ServerProcess.Start($"{system}/{name}", dotnet, args, "shoal target ready");
            servers.Add(target);
            await target.WaitReadyAsync(s_readyTimeout, cancel).ConfigureAwait(false);
            stats.Add(new ShoalStatsFile(statsPath, target));
            targetArgs.Add("--target");
            targetArgs.Add($"{name}={Endpoint(port)}");
        }

        string layoutPath = Path.Combine(dir, "layout.json");
        var layoutArgs = new List<string>
        {
            _options.ShoalDll, "layout", "--name", ExportName, "--kind", legs == 1 ? "concat" : "mirror",
            "--size", Bytes(VolumeBytes), "--out", layoutPath,
        };
        layoutArgs.AddRange(targetArgs);
        if (legs > 1)
        {
            layoutArgs.Add("--legs");
            layoutArgs.Add(legs.ToString(CultureInfo.InvariantCulture));
        }
        (int exit, string stdout, string stderr) = Tools.Run(dotnet, layoutArgs, TimeSpan.FromSeconds(60));
        if (exit != 0)
        {
            throw new BenchException($"shoal layout failed (exit {exit}): {stderr.Trim()} {stdout.Trim()}");
        }

        int nbdPort = firstPort;
        EnsurePortFree(nbdPort, $"{system} client");
        string clientStats = Path.Combine(dir, "client.stats.json");
        var clientArgs = new List<string>
        {
            _options.ShoalDll, "client", "--layout", layoutPath, "--cluster-key-file", _keyFile,
            "--nbd", Endpoint(nbdPort), "--stats-file", clientStats,
        };
        AddPollSpin(clientArgs);
        ServerProcess client = ServerProcess.Start($"{system}/client", dotnet, clientArgs, "shoal client ready");
        servers.Add(client);
        string ready = await client.WaitReadyAsync(s_readyTimeout, cancel).ConfigureAwait(false);
        stats.Add(new ShoalStatsFile(clientStats, client));
        // Take the URI the client announces rather than rebuilding it, so a change in export naming cannot silently point fio elsewhere.
        string uri = ready.Split(' ').FirstOrDefault(p => p.StartsWith("nbd=", StringComparison.Ordinal))?[4..]
            ?? throw new BenchException($"{system}: no nbd= in the client's ready line: {ready}");
        await WaitNbdAsync(client, uri, cancel).ConfigureAwait(false);
        _log($"{system}: {servers.Count} processes (pids {string.Join(",", servers.Select(s => s.Pid))}) serving {uri}");
        return new BenchSystem(system, uri, servers, stats);
    }

    private async Task<BenchSystem> StartNbdkitAsync(string dir, int port, List<ServerProcess> servers, CancellationToken cancel)
    {
        string nbdkit = Tools.Require("nbdkit", "nbdkit");
        string file = CreateRawFile(dir);
        EnsurePortFree(port, SystemNames.Nbdkit);
        // Not --exit-with-parent: it is PR_SET_PDEATHSIG, tied to the *thread* that forked nbdkit, and a
        // retired thread-pool thread then shuts nbdkit down mid-run. Dispose stops it instead.
        ServerProcess server = ServerProcess.Start(SystemNames.Nbdkit, nbdkit,
            ["--foreground", "--ipaddr", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "file", file],
            readyPrefix: null);
        servers.Add(server);
        string uri = $"nbd://{Endpoint(port)}/{ExportName}";
        await WaitNbdAsync(server, uri, cancel).ConfigureAwait(false);
        _log($"nbdkit: pid {server.Pid} serving {uri}");
        return new BenchSystem(SystemNames.Nbdkit, uri, servers, []);
    }

    private async Task<BenchSystem> StartQemuNbdAsync(string dir, int port, List<ServerProcess> servers, CancellationToken cancel)
    {
        string qemuNbd = Tools.Require("qemu-nbd", "qemu-utils");
        string file = CreateRawFile(dir);
        EnsurePortFree(port, SystemNames.QemuNbd);
        // --persistent keeps serving after the readiness probe and each fio job disconnect; --shared lets
        // the probe and fio overlap harmlessly. Default cache mode (writeback) is the page cache, as for nbdkit.
        ServerProcess server = ServerProcess.Start(SystemNames.QemuNbd, qemuNbd,
            ["--format=raw", "--bind=127.0.0.1", $"--port={port.ToString(CultureInfo.InvariantCulture)}", $"--export-name={ExportName}",
             "--persistent", "--shared=8", file],
            readyPrefix: null);
        servers.Add(server);
        string uri = $"nbd://{Endpoint(port)}/{ExportName}";
        await WaitNbdAsync(server, uri, cancel).ConfigureAwait(false);
        _log($"qemu-nbd: pid {server.Pid} serving {uri}");
        return new BenchSystem(SystemNames.QemuNbd, uri, servers, []);
    }

    /// <summary>
    /// Readiness by a real NBD handshake (nbdinfo): nbdkit and qemu-nbd print no ready line, and the
    /// size check proves fio will see the volume we meant.
    /// </summary>
    private static async Task WaitNbdAsync(ServerProcess server, string uri, CancellationToken cancel)
    {
        string nbdinfo = Tools.Require("nbdinfo", "libnbd-bin");
        long deadline = Environment.TickCount64 + (long)s_readyTimeout.TotalMilliseconds;
        string last = "";
        while (true)
        {
            server.EnsureRunning();
            (int exit, string stdout, string stderr) = Tools.Run(nbdinfo, ["--size", uri], TimeSpan.FromSeconds(10));
            if (exit == 0)
            {
                long size = long.Parse(stdout.Trim(), CultureInfo.InvariantCulture);
                if (size != VolumeBytes)
                {
                    throw new BenchException($"{server.Label}: {uri} has {size} bytes, expected {VolumeBytes}");
                }
                return;
            }
            last = stderr.Trim();
            if (Environment.TickCount64 > deadline)
            {
                throw new BenchException($"{server.Label}: {uri} did not answer NBD within {s_readyTimeout.TotalSeconds:0} s ({last})");
            }
            await Task.Delay(s_probeInterval, cancel).ConfigureAwait(false);
        }
    }

    private static string CreateRawFile(string dir)
    {
        string file = Path.Combine(dir, "disk.raw");
        using var fs = new FileStream(file, FileMode.CreateNew, FileAccess.Write);
        fs.SetLength(VolumeBytes);
        return file;
    }

    /// <summary>A port already in use would have fio measure someone else's server: refuse up front and name it.</summary>
    private static void EnsurePortFree(int port, string owner)
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch (SocketException e)
        {
            throw new BenchException($"port {port} (for {owner}) is in use ({e.SocketErrorCode}): stop whatever holds it or pass --port-base");
        }
    }

    private void AddPollSpin(List<string> args)
    {
        if (_options.PollSpinMicros is int spin)
        {
            args.Add("--poll-spin-us");
            args.Add(spin.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static int IndexOf(string system)
    {
        for (int i = 0; i < SystemNames.All.Count; i++)
        {
            if (SystemNames.All[i] == system)
            {
                return i;
            }
        }
        throw new BenchException($"unknown system {system}");
    }

    private static string Endpoint(int port) => $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}";

    private static string Bytes(long bytes) => bytes.ToString(CultureInfo.InvariantCulture);
}
