using Shoal.Host.Attach;
using Shoal.Host.Cli;
using Shoal.Management.Cli;
using Shoal.Host.Node;
using Shoal.Host.Static;

namespace Shoal.Host;

/// <summary>The one <c>shoal</c> binary: node daemon and operator CLI.</summary>
internal static class Program
{
    private const string Help =
        "shoal — distributed block storage\n\n" +
        "the embedded default (one node, every role):\n  " + EmbeddedCommand.Usage + "\n\n" +
        "cluster node (control plane and data path):\n  " + NodeCommand.Usage + "\n\n" +
        "operator palettes (through a management node's REST gateway):\n  " + ManagementCli.Usage + "\n\n" +
        "block devices on this host:\n  " + AttachCommand.Usage + "\n\n" +
        "static-layout mode (no control plane; an operator's debugging tool):\n  " +
        TargetCommand.Usage + "\n  " + ClientCommand.Usage + "\n  " + LayoutCommand.Usage + "\n  " + DemoCommand.Usage + "\n\n" +
        "other:\n  shoal version\n  shoal help\n";

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            Console.Out.Write(Help);
            return args.Length == 0 ? 2 : 0;
        }
        string[] rest = args[1..];
        try
        {
            if (ManagementCli.Palettes.Contains(args[0]) && (args[0] != "node" || ManagementCli.NodeVerbs.Contains(rest.FirstOrDefault() ?? "")))
            {
                return ManagementCli.Run(args[0], rest, Console.Out, Console.Error);
            }
            return args[0] switch
            {
                "node" => NodeCommand.Run(rest),
                "attach" or "detach" => AttachCommand.Run(args[0], rest, Console.Out, Console.Error),
                "attach-helper" => AttachHelperCommand.Run(rest),
                "run" => EmbeddedCommand.Run(rest),
                "target" => TargetCommand.Run(rest),
                "client" => ClientCommand.Run(rest),
                "layout" => LayoutCommand.Run(rest),
                "demo" => DemoCommand.Run(rest),
                "version" => Version(),
                _ => throw new CliException($"unknown command '{args[0]}' (see 'shoal help')"),
            };
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"shoal {args[0]}: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is FileNotFoundException or ArgumentException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"shoal {args[0]}: {e.Message}");
            return 2;
        }
    }

    private static int Version()
    {
        Console.Out.WriteLine($"shoal {typeof(Program).Assembly.GetName().Version} wire-protocol {Shoal.DataPath.Wire.Handshake.MinVersion}..{Shoal.DataPath.Wire.Handshake.MaxVersion}");
        return 0;
    }
}
