using System.Globalization;
using System.Runtime.InteropServices;
using Shoal.DataPath.Nbd;
using Shoal.Host.Cli;
using Shoal.Management.Cli;

namespace Shoal.Host.Attach;

/// <summary>
/// <c>shoal attach-helper</c>, started by <c>shoal attach</c> in a session of its own (it outlives the CLI and the
/// node): an NBD client of the node's export that serves the volume as the single file of a FUSE mount, until the
/// mount is unmounted (<c>shoal detach</c> runs <c>fusermount3 -u</c>). While the node restarts, its requests wait
/// and are sent again (<see cref="NbdClient"/>), each for at most the I/O timeout. Logs to <c>--log</c>.
/// </summary>
internal static class AttachHelperCommand
{
    public const string Usage = "shoal attach-helper --uri NBD-URI --mount DIR --file NAME --io-timeout SECONDS --log FILE --pid-file FILE   (started by shoal attach)";

    public static int Run(IReadOnlyList<string> argv)
    {
        CliArgs args = CliArgs.Parse(argv, new HashSet<string> { "uri", "mount", "file", "io-timeout", "log", "pid-file" }, new HashSet<string>());
        string uri = args.Required("uri");
        string mount = Path.GetFullPath(args.Required("mount"));
        string file = args.Required("file");
        var ioTimeout = TimeSpan.FromSeconds(args.Int("io-timeout", 120, 1, 24 * 3600));
        var writer = new StreamWriter(new FileStream(args.Required("log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        // Everything this process says goes to its log: the CLI that started it is gone, and so is its terminal.
        Console.SetOut(TextWriter.Synchronized(writer));
        Console.SetError(TextWriter.Synchronized(writer));
        Action<string> log = Log.For($"attach-helper {file}");
        File.WriteAllText(args.Required("pid-file"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            using NbdClient client = NbdClient.Connect(uri, ioTimeout, log);
            log(string.Create(CultureInfo.InvariantCulture, $"connected to {uri}: {client.SizeBytes} bytes, flags 0x{client.TransmissionFlags:x}, requests up to {client.MaxBlockBytes} bytes; I/O timeout {ioTimeout.TotalSeconds:0} s"));
            using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Unmount(c, mount, log));
            using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Unmount(c, mount, log));
            int rc = FuseVolumeFile.Serve(client, mount, file, "shoal:" + file, log);
            log($"FUSE mount {mount} ended (fuse_main {rc}); flushing and disconnecting");
            int flushed = client.Flush();
            if (flushed != 0)
            {
                log($"the last flush failed: errno {flushed}");
            }
            log(string.Create(CultureInfo.InvariantCulture, $"stopped after {client.Reconnects} reconnects and {client.Flushes} flushes"));
            return rc == 0 && flushed == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or NbdProtocolException or ArgumentException or DllNotFoundException or EntryPointNotFoundException)
        {
            log($"cannot serve {uri}: {e.Message}");
            return 1;
        }
    }

    /// <summary>SIGTERM or SIGINT: stop by unmounting, which libfuse sees as the end; refused by the kernel while a loop device still holds the file.</summary>
    private static void Unmount(PosixSignalContext context, string mount, Action<string> log)
    {
        context.Cancel = true;
        Task.Run(() =>
        {
            (int code, string output) = HostTools.Run("fusermount3", "-u", mount);
            log(code == 0 ? $"{context.Signal}: unmounted {mount}" : $"{context.Signal}: not stopping, {mount} is in use: {output}");
        });
    }
}
