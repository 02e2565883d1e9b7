using System.Net;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// The README's run command (<c>build.ps1 run</c> is <c>shoal run</c> on the default ports; here on free ports): it
/// serves <c>demo</c> to fio, takes a drive added while it runs, stops on SIGINT (and SIGTERM), and run again it reuses the drives
/// (the added one too), journal and volume — the data written before is still there.
/// </summary>
public sealed class EmbeddedRunTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Run_serves_demo_to_fio_then_restarts_with_the_same_volume_and_data()
    {
        Tool.Require("fio");
        using var node = new EmbeddedNode();
        try
        {
            Assert.Equal(4, Directory.GetFiles(node.Dir, "drive-*.img").Length);
            Assert.True(File.Exists(Path.Combine(node.Dir, "control-plane.sqlite")), "the SQLite journal lives in the data directory");
            string token = node.AdminToken;
            string uid = await DemoUid(node);

            string[] write = [.. Tool.FioVerify(node.DemoUri, "write", "32m", "64k", 4, name: "run"), "--verify_state_save=0"];
            (int code, string text) = Tool.Run("fio", write, TimeSpan.FromMinutes(3));
            Assert.True(code == 0, "fio against the embedded default's demo failed:\n" + text);

            string extra = Path.Combine(node.Dir, "extra.img");
            (code, text) = node.Cli("drive", "add", "shoal1", extra, "--size", "256MiB");
            Assert.True(code == 0, text);
            Assert.Contains("extra.img", text, StringComparison.Ordinal);
            (code, text) = node.Cli("drive", "add", "shoal1", extra);
            Assert.True(code == 1 && text.Contains("already", StringComparison.Ordinal), text);
            await WaitForOnlineDrives(node, 5);

            node.Stop("INT");
            node.Start();

            await WaitForOnlineDrives(node, 5);
            Assert.Equal(token, node.AdminToken);
            Assert.Equal(uid, await DemoUid(node));
            string[] verify = [.. Tool.FioVerify(node.DemoUri, "write", "32m", "64k", 4, name: "run"), "--verify_only", "--verify_state_load=0"];
            (code, text) = Tool.Run("fio", verify, TimeSpan.FromMinutes(3));
            Assert.True(code == 0, "after a restart the data written before does not verify:\n" + text);
            node.Stop("TERM");
        }
        catch
        {
            output.WriteLine(node.Logs());
            throw;
        }
    }

    /// <summary>The drive list is the node's view, fed by the drive entities' publications: it may lag a registration by one.</summary>
    private static async Task WaitForOnlineDrives(EmbeddedNode node, int expected)
    {
        using HttpClient http = node.Http(node.AdminToken);
        long deadline = Environment.TickCount64 + 30_000;
        while (true)
        {
            using JsonDocument doc = JsonDocument.Parse(await http.GetStringAsync("drives"));
            int online = doc.RootElement.EnumerateArray().Count(d => d.GetProperty("status").GetString() == "online");
            if (online == expected)
            {
                return;
            }
            Assert.True(Environment.TickCount64 < deadline, $"{online} drives online, expected {expected}");
            await Task.Delay(200);
        }
    }

    private static async Task<string> DemoUid(EmbeddedNode node)
    {
        using HttpClient http = node.Http(node.AdminToken);
        using HttpResponseMessage response = await http.GetAsync("volumes/demo");
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        using JsonDocument doc = JsonDocument.Parse(text);
        Assert.Equal("healthy", doc.RootElement.GetProperty("health").GetString());
        Assert.Equal("mirror", doc.RootElement.GetProperty("layout").GetString());
        Assert.Equal("drive", doc.RootElement.GetProperty("spread").GetString());
        return doc.RootElement.GetProperty("uid").GetString()!;
    }
}
