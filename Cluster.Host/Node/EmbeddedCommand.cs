using System.Globalization;
using Shoal.DataPath.Wire;
using Shoal.Host.Cli;
using Shoal.Management.Cli;

namespace Shoal.Host.Node;

/// <summary>
/// <c>shoal run</c>: the embedded default, a single-node cluster with every role — SQLite journal, four file drives
/// and a mirror:2 volume <c>demo</c> exported over NBD, the REST gateway and the GUI. On one node the legs' failure
/// domain is the drive. Run again, it reuses the key, drives, journal and volume it finds.
/// </summary>
internal static class EmbeddedCommand
{
    public const string Usage = "shoal run [--dir DIR] [--nbd HOST:PORT] [--http HOST:PORT] [--akka HOST:PORT] [--data-listen HOST:PORT]";

    public const int Drives = 4;

    public static int Run(IReadOnlyList<string> argv)
    {
        CliArgs args = CliArgs.Parse(argv, new HashSet<string> { "dir", "nbd", "http", "akka", "data-listen" }, new HashSet<string>());
        string dir = Path.GetFullPath(args.Optional("dir") ?? ".shoal");
        string nbd = args.Optional("nbd") ?? "127.0.0.1:10809";
        string http = args.Optional("http") ?? "127.0.0.1:8080";
        string akka = args.Optional("akka") ?? "127.0.0.1:4053";
        Directory.CreateDirectory(dir);
        string keyFile = Path.Combine(dir, "cluster.key");
        ClusterKey.LoadOrCreate(keyFile);
        List<string> node =
        [
            "start", "--name", "shoal1", "--data-dir", dir, "--cluster-key-file", keyFile, "--akka", akka, "--seed", akka,
            "--roles", "target,client,management", "--journal", "sqlite", "--data-listen", args.Optional("data-listen") ?? "127.0.0.1:17100",
            "--nbd-listen", nbd, "--http-listen", http, "--spread", "drive", "--volume", "demo=mirror:2:1GiB", "--attach", "demo",
        ];
        for (int i = 0; i < Drives; i++)
        {
            node.AddRange(["--drive", Path.Combine(dir, string.Create(CultureInfo.InvariantCulture, $"drive-{i}.img")) + "=1GiB"]);
        }
        return NodeCommand.Run(node, () =>
        {
            Log.Announce($"shoal ready: volume 'demo' (mirror:2 across two of four drives on this one node: its failure domain is the drive) at nbd://{nbd}/demo");
            Log.Announce($"  REST gateway http://{http}/api/v1   GUI http://{http}/   admin token in {Path.Combine(dir, "admin.token")}");
            Log.Announce($"  try: fio --name=demo --ioengine=nbd --uri=nbd://{nbd}/demo --rw=randrw --bs=4k --size=64m --verify=crc32c");
            Log.Announce($"       shoal volume list --api http://{http}/api/v1 --token-file {Path.Combine(dir, "admin.token")}");
            Log.Announce("  Ctrl-C stops it (data stays in " + dir + ")");
        });
    }
}
