using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;
using Shoal.Host.Cli;
using Shoal.Management.Cli;

namespace Shoal.Host.Static;

/// <summary>
/// <c>shoal demo</c>: the static-layout demo. Two target processes, each with one file drive under
/// the data directory, and a client process exporting a 1 GiB mirror:2 volume <c>demo</c> over NBD.
/// Run again, it reuses the key, drives and layout it finds.
/// </summary>
internal static class DemoCommand
{
    public const string Usage = "shoal demo [--dir DIR] [--nbd HOST:PORT] [--size SIZE]";

    /// <summary>Children stamp and label their own log lines: pass them through as they are.</summary>
    private static void RelayChildLog(string line) => Console.Error.WriteLine(line);

    public static int Run(IReadOnlyList<string> argv)
    {
        CliArgs args = CliArgs.Parse(argv, new HashSet<string> { "dir", "nbd", "size" }, new HashSet<string>());
        string dir = Path.GetFullPath(args.Optional("dir") ?? ".shoal");
        string nbd = args.Optional("nbd") ?? "127.0.0.1:10809";
        long size = args.Size("size", 1L << 30);
        Directory.CreateDirectory(dir);
        string keyFile = Path.Combine(dir, "cluster.key");
        ClusterKey.LoadOrCreate(keyFile);
        Action<string> log = Log.For("demo");

        (string Name, string Endpoint)[] targets = [("t1", "127.0.0.1:17001"), ("t2", "127.0.0.1:17002")];
        string layoutFile = Path.Combine(dir, "demo.layout.json");
        if (!File.Exists(layoutFile))
        {
            VolumeLayout fresh = LayoutCommand.Build("demo", LayoutKind.Mirror, size, targets, 2, 1, VolumeLayout.DefaultStripeUnitBytes, 64L << 20, 0, 1, 1);
            fresh.Save(layoutFile);
        }
        long driveBytes = size + (128L << 20);
        var children = new List<ChildProcess>();
        try
        {
            foreach ((string name, string endpoint) in targets)
            {
                children.Add(ChildProcess.Start(
                    ["target", "--name", name, "--listen", endpoint, "--drive", Path.Combine(dir, $"{name}-drive0.img"),
                     "--create-size", driveBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), "--cluster-key-file", keyFile],
                    "shoal target ready", TimeSpan.FromSeconds(30), RelayChildLog));
            }
            children.Add(ChildProcess.Start(
                ["client", "--layout", layoutFile, "--cluster-key-file", keyFile, "--nbd", nbd],
                "shoal client ready", TimeSpan.FromSeconds(30), RelayChildLog));
        }
        catch (InvalidOperationException e)
        {
            foreach (ChildProcess c in children)
            {
                c.Dispose();
            }
            throw new CliException(e.Message);
        }
        using var lifetime = new ProcessLifetime(null, () => new { });
        Log.Announce($"shoal demo ready: volume 'demo' (mirror:2, {size} bytes) at nbd://{nbd}/demo");
        Log.Announce($"  try: nbdinfo nbd://{nbd}/demo   or   fio --ioengine=nbd --uri=nbd://{nbd}/demo --rw=randrw --bs=4k --size=64m --name=demo");
        Log.Announce("  Ctrl-C stops the demo (data stays in " + dir + ")");
        lifetime.WaitForStop();
        log("stopping");
        for (int i = children.Count - 1; i >= 0; i--)
        {
            children[i].Dispose();
        }
        return 0;
    }
}
