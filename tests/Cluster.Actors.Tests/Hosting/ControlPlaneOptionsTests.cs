using Shoal.Actors.Hosting;

namespace Shoal.Actors.Tests.Hosting;

public sealed class ControlPlaneOptionsTests
{
    private static readonly ControlPlaneOptions s_valid = new()
    {
        NodeName = "node-1",
        Roles = ["target", "client"],
        BindHost = "127.0.0.1",
        BindPort = 4053,
        SeedNodes = ["akka.tcp://shoal@127.0.0.1:4053"],
        Journal = JournalKind.Sqlite,
        JournalConnectionString = ControlPlaneOptions.SqliteConnectionString("/var/lib/shoal"),
    };

    private static readonly ControlPlaneOptions s_validCluster = s_valid with
    {
        BindHost = "0.0.0.0",
        PublicHostname = "10.0.0.1",
        SeedNodes = ["akka.tcp://shoal@10.0.0.1:4053", "akka.tcp://shoal@10.0.0.2:4053", "akka.tcp://shoal@10.0.0.3:4053"],
        Journal = JournalKind.PostgreSql,
        JournalConnectionString = "Host=10.0.0.9;Database=shoal;Username=shoal;Password=secret",
    };

    [Fact]
    public void Valid_single_node_and_cluster_options_have_no_errors()
    {
        Assert.Empty(s_valid.Validate());
        Assert.Empty(s_validCluster.Validate());
        Assert.Empty((s_valid with { Journal = JournalKind.InMemory, JournalConnectionString = null }).Validate());
    }

    [Fact]
    public void Defaults_are_the_documented_timings()
    {
        Assert.Equal(TimeSpan.FromSeconds(7), s_valid.SbrStableAfter);
        Assert.Equal(TimeSpan.FromSeconds(3), s_valid.AcceptableHeartbeatPause);
        Assert.Equal("akka.tcp://shoal@10.0.0.1:4053", s_validCluster.SelfAddress);
    }

    [Fact]
    public void Node_name_is_always_the_first_role_and_never_repeated()
    {
        var options = s_valid with { Roles = ["target", "node-1", "target"] };
        Assert.Equal(["node-1", "target"], options.EffectiveRoles());
    }

    // Case name -> (options, words the error must contain). Keyed by name so that test names stay short.
    private static readonly Dictionary<string, (ControlPlaneOptions Options, string Expected)> s_badOptions = new()
    {
        ["empty node name"] = (s_valid with { NodeName = "" }, "NodeName is empty"),
        ["node name with a space"] = (s_valid with { NodeName = "node 1" }, "NodeName 'node 1' is not a valid name"),
        ["role with a dot"] = (s_valid with { Roles = ["a.b"] }, "Role 'a.b' is not a valid name"),
        ["duplicate role"] = (s_valid with { Roles = ["target", "target"] }, "Role 'target' is listed twice"),
        ["port out of range"] = (s_valid with { BindPort = 70000 }, "BindPort 70000 is outside 0-65535"),
        ["bad bind host"] = (s_valid with { BindHost = "not a host" }, "BindHost 'not a host' is not a host name or IP address"),
        ["wildcard without public host"] = (s_validCluster with { PublicHostname = null }, "PublicHostname must say which address peers use"),
        ["no seeds"] = (s_valid with { SeedNodes = [] }, "SeedNodes is empty"),
        ["seed not an address"] = (s_valid with { SeedNodes = ["127.0.0.1:4053"] }, "Seed node '127.0.0.1:4053' is not an address"),
        ["seed of another system"] = (s_valid with { SeedNodes = ["akka.tcp://other@127.0.0.1:4053"] }, "names actor system 'other'"),
        ["seed on port 0"] = (s_valid with { BindPort = 0, SeedNodes = ["akka.tcp://shoal@127.0.0.1:0"] }, "has port 0"),
        ["sqlite without path"] = (s_valid with { JournalConnectionString = null }, "a Sqlite journal needs 'Data Source="),
        ["sqlite relative path"] = (s_valid with { JournalConnectionString = "Data Source=shoal.db" }, "is relative"),
        ["sqlite in memory"] = (s_valid with { JournalConnectionString = "Data Source=:memory:" }, "must be a file, not an in-memory database"),
        ["sqlite in a multi-node cluster"] = (s_validCluster with { Journal = JournalKind.Sqlite, JournalConnectionString = "Data Source=/var/lib/shoal/x.sqlite" }, "a multi-node cluster needs Journal = PostgreSql"),
        ["postgres without connection string"] = (s_validCluster with { JournalConnectionString = " " }, "a PostgreSql journal needs an Npgsql connection string"),
        ["postgres without database"] = (s_validCluster with { JournalConnectionString = "Host=10.0.0.9;Username=shoal" }, "has no Database"),
        ["postgres garbage"] = (s_validCluster with { JournalConnectionString = "this is not;a=connection;string" }, "is not an Npgsql connection string"),
        ["in-memory with a connection string"] = (s_valid with { Journal = JournalKind.InMemory }, "JournalConnectionString is set but Journal is InMemory"),
        ["stable-after too short"] = (s_valid with { SbrStableAfter = TimeSpan.FromMilliseconds(500) }, "SbrStableAfter 0.5 s is outside 2-300 s"),
        ["heartbeat pause too long"] = (s_valid with { AcceptableHeartbeatPause = TimeSpan.FromMinutes(2) }, "AcceptableHeartbeatPause 120 s is outside 1-60 s"),
        ["missing hocon file"] = (s_valid with { HoconPath = "/nonexistent/shoal.conf" }, "HoconPath '/nonexistent/shoal.conf' does not exist"),
    };

    public static TheoryData<string> BadOptionCases => [.. s_badOptions.Keys];

    [Theory]
    [MemberData(nameof(BadOptionCases))]
    public void Bad_options_are_reported_in_words(string because)
    {
        var (options, expected) = s_badOptions[because];
        var errors = options.Validate();
        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)),
            $"{because}: expected an error containing \"{expected}\", got:\n{string.Join('\n', errors)}");
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var errors = (s_valid with { NodeName = "", BindPort = -1, SeedNodes = [] }).Validate();
        Assert.True(errors.Count >= 3, string.Join('\n', errors));
    }

    [Fact]
    public void Wiring_refuses_invalid_options_with_every_error()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        var e = Assert.Throws<ArgumentException>(() => services.AddShoalControlPlane(s_valid with { NodeName = "", SeedNodes = [] }));
        Assert.Contains("NodeName is empty", e.Message, StringComparison.Ordinal);
        Assert.Contains("SeedNodes is empty", e.Message, StringComparison.Ordinal);
    }
}
