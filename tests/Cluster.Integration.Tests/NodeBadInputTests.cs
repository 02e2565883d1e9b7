namespace Shoal.Integration.Tests;

/// <summary><c>shoal node start</c> with bad options: exit code 2, one line that names the problem, nothing created.</summary>
public sealed class NodeBadInputTests
{
    public static TheoryData<string[], string> BadOptions() => new()
    {
        { ["node"], "usage: shoal node start" },
        { ["node", "stop"], "usage: shoal node start" },
        { ["node", "start", "--name", "n1", "--cluster-key-file", "k", "--akka", "127.0.0.1:1"], "'--data-dir' is required" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "target,storage"], "unknown role 'storage'" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "target"], "the target role needs at least one --drive and --data-listen" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client", "--drive", "d.img"], "--drive and --data-listen need the target role" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "target", "--drive", "d.img", "--data-listen", "127.0.0.1:1", "--attach", "v"], "--attach needs the client role" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client,management", "--http-listen", "localhost:80:80"], "localhost:80:80" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client", "--journal", "postgresql"], "--journal postgresql needs --journal-connection" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client", "--journal", "mongo"], "--journal must be sqlite or postgresql" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client", "--volume", "v=mirror:4:1GiB"], "Mirror needs 2..3 legs, not 4" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client", "--volume", "v=raid5:3:1GiB"], "kind must be concat:SIZE" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client", "--volume", "v=mirror:2:-1"], "is not a positive size" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client", "--volume", "bad name=mirror:2:1GiB"], "volume name 'bad name'" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--roles", "client", "--segment-size", "1000"], "--segment-size must be a multiple of 1 MiB" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "not-an-endpoint"], "not-an-endpoint" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--bogus", "x"], "--bogus" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--wire-protocol", "3"], "option '--wire-protocol' must be a whole number from 1 to 2, not '3'" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--wire-protocol", "0"], "option '--wire-protocol' must be a whole number from 1 to 2, not '0'" },
        { ["node", "start", "--name", "n1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1", "--maintenance-window", "0"], "option '--maintenance-window' must be a whole number from 1" },
        { ["node", "start", "--name", "client", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1"], "not a role name" },
        { ["node", "start", "--name", "n 1", "--data-dir", "{dir}", "--cluster-key-file", "k", "--akka", "127.0.0.1:1"], "node name 'n 1'" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_are_refused_with_a_clear_error_and_create_nothing(string[] args, string expected)
    {
        string dir = Path.Combine(Path.GetTempPath(), "shoal-node-bad-" + Guid.NewGuid().ToString("N"));
        string[] argv = [.. args.Select(a => a.Replace("{dir}", dir, StringComparison.Ordinal))];
        (int code, string output) = ShoalProcess.RunToEnd(argv);
        Assert.True(code == 2, $"exit {code}, expected 2:\n{output}");
        Assert.Contains(expected, output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir), "a refused start must not create its data directory");
    }
}
