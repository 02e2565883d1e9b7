using System.Text.Json;
using Shoal.Actors.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// The CLI's cluster palette against three real <c>shoal node</c>s (PostgreSQL journal), n1 serving the gateway:
/// <c>cluster show</c> lists the members; <c>cluster down</c> of a live member stops that node's process and the
/// cluster goes on without it; the node restarts and rejoins; <c>cluster leave</c> takes it out gracefully (exit 0);
/// an address that is no member is refused and changes nothing.
/// </summary>
public sealed class ClusterPaletteTests(PostgresServer postgres, ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    private static readonly TimeSpan s_stop = TimeSpan.FromSeconds(60);

    [Fact]
    public void Cluster_show_down_and_leave_through_the_cli()
    {
        using var cluster = new NodeCluster(postgres.ConnectionString, outAfterSeconds: 600, management: true);
        try
        {
            cluster.StartAll();
            Assert.Equal(["up", "up", "up"], Statuses(cluster));

            (int code, string text) = cluster.Cli("cluster", "show");
            Assert.True(code == 0, text);
            Assert.Contains(cluster.AkkaAddress(3), text, StringComparison.Ordinal);

            // Not a member: refused with one line, and the cluster is unchanged.
            (code, text) = cluster.Cli("cluster", "down", "127.0.0.1:1");
            Assert.True(code == 1, text);
            Assert.Single(text.Trim().Split('\n'));
            Assert.Equal(3, Statuses(cluster).Length);

            // Down a live member: it learns it was downed and its process stops; the others go on.
            (code, text) = cluster.Cli("cluster", "down", cluster.AkkaAddress(3));
            Assert.True(code == 0, text);
            int downedExit = cluster.WaitForExit(3, s_stop);
            output.WriteLine($"n3 stopped after 'cluster down' with exit code {downedExit}");
            Poll.Until(() => Statuses(cluster).Length == 2, "n3 to leave the member list after down");

            // It comes back (a new incarnation) and rejoins.
            cluster.Start(3);
            Poll.Until(() => Statuses(cluster) is ["up", "up", "up"], "n3 to rejoin");

            // Leave: graceful, the node stops by itself with exit code 0.
            (code, text) = cluster.Cli("cluster", "leave", cluster.AkkaAddress(3));
            Assert.True(code == 0, text);
            Assert.Equal(0, cluster.WaitForExit(3, s_stop));
            Poll.Until(() => Statuses(cluster).Length == 2, "n3 to leave the member list after leave");

            (code, text) = cluster.Cli("cluster", "sharding", "regions");
            Assert.True(code == 0, text);
            Assert.DoesNotContain(cluster.AkkaAddress(3), text, StringComparison.Ordinal);
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static string[] Statuses(NodeCluster cluster)
    {
        (int code, string text) = cluster.Cli("cluster", "show", "--json");
        Assert.True(code == 0, text);
        using JsonDocument doc = JsonDocument.Parse(text);
        return [.. doc.RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("status").GetString()!)];
    }

}
