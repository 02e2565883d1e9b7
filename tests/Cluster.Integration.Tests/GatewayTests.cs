using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// The operator's tools against a started embedded node: the CLI end to end (create, attach, fio verify through NBD,
/// detach, delete), REST bad input (4xx and nothing changed), tokens and roles, the Prometheus page, the OpenAPI
/// document.
/// </summary>
public sealed partial class GatewayTests(EmbeddedNode node, ITestOutputHelper output) : IClassFixture<EmbeddedNode>
{
    private static readonly TimeSpan s_fioTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public void Cli_creates_attaches_serves_detaches_and_deletes_a_volume()
    {
        Tool.Require("fio");
        try
        {
            (int code, string text) = node.Cli("volume", "create", "clivol", "--layout", "mirror", "--size", "128MiB", "--spread", "drive");
            Assert.True(code == 0, text);
            Assert.Contains("mirror:2", text, StringComparison.Ordinal);
            Assert.Equal(2 * 2, Regex.Matches(text, @"\binSync\b").Count);

            (code, text) = node.Cli("volume", "attach", "clivol");
            Assert.True(code == 0, text);
            string uri = text.Split('\n').Single(l => l.StartsWith("nbd://", StringComparison.Ordinal)).Trim();

            (code, text) = Tool.Run("fio", Tool.FioVerify(uri, "randwrite", "64m", "4k", 8), s_fioTimeout);
            Assert.True(code == 0, "fio through the CLI-attached export failed:\n" + text);

            (code, text) = node.Cli("volume", "list", "--json");
            Assert.True(code == 0, text);
            using (JsonDocument list = JsonDocument.Parse(text))
            {
                JsonElement vol = list.RootElement.EnumerateArray().Single(v => v.GetProperty("name").GetString() == "clivol");
                Assert.Equal("healthy", vol.GetProperty("health").GetString());
                Assert.Equal(1, vol.GetProperty("attachments").GetArrayLength());
            }

            (code, text) = node.Cli("volume", "delete", "clivol");
            Assert.True(code == 1, "deleting an attached volume must fail: " + text);
            Assert.Contains("attached", text, StringComparison.Ordinal);

            (code, text) = node.Cli("volume", "detach", "clivol");
            Assert.True(code == 0, text);
            (code, _) = Tool.Run("nbdinfo", [uri], TimeSpan.FromSeconds(30));
            Assert.NotEqual(0, code);

            (code, text) = node.Cli("volume", "delete", "clivol");
            Assert.True(code == 0, text);
            Poll.Until(() => node.Cli("volume", "list").Output is var t && !t.Contains("clivol", StringComparison.Ordinal), "the deleted volume to leave the list");
            (code, text) = node.Cli("volume", "show", "clivol");
            Assert.Equal(1, code);
            Assert.Contains("404", text, StringComparison.Ordinal);
        }
        catch
        {
            output.WriteLine(node.Logs());
            throw;
        }
    }

    [Fact]
    public void A_volume_grown_while_attached_serves_its_new_size_on_the_next_connection()
    {
        Tool.Require("fio");
        Tool.Require("nbdinfo");
        try
        {
            (int code, string text) = node.Cli("volume", "create", "growvol", "--layout", "mirror", "--size", "64MiB", "--spread", "drive");
            Assert.True(code == 0, text);
            (code, text) = node.Cli("volume", "attach", "growvol");
            Assert.True(code == 0, text);
            string uri = text.Split('\n').Single(l => l.StartsWith("nbd://", StringComparison.Ordinal)).Trim();
            Assert.Equal(64L << 20, ExportSize(uri));

            (code, text) = node.Cli("volume", "grow", "growvol", "--size", "128MiB");
            Assert.True(code == 0, text);
            // The client's engine takes the grown layout on its next refresh; an NBD connection keeps the size it
            // was told at negotiation (the protocol has no resize notice), the next one sees the new size.
            Poll.Until(() => ExportSize(uri) == 128L << 20, "the export to serve the grown size");
            (code, text) = Tool.Run("fio", Tool.FioVerify(uri, "write", "64m", "64k", 4, offset: "64m", name: "grown"), s_fioTimeout);
            Assert.True(code == 0, "fio on the grown part failed:\n" + text);

            (code, text) = node.Cli("volume", "detach", "growvol");
            Assert.True(code == 0, text);
            (code, text) = node.Cli("volume", "delete", "growvol");
            Assert.True(code == 0, text);
        }
        catch
        {
            output.WriteLine(node.Logs());
            throw;
        }
    }

    private static long ExportSize(string uri)
    {
        (int code, string text) = Tool.Run("nbdinfo", ["--size", uri], TimeSpan.FromSeconds(30));
        Assert.True(code == 0, "nbdinfo failed: " + text);
        return long.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Drive_evacuate_moves_every_leg_elsewhere_and_the_data_still_verifies()
    {
        Tool.Require("fio");
        try
        {
            string[] write = [.. Tool.FioVerify(node.DemoUri, "write", "128m", "64k", 4, name: "evacuate"), "--verify_state_save=0"];
            (int code, string text) = Tool.Run("fio", write, s_fioTimeout);
            Assert.True(code == 0, text);
            (code, text) = node.Cli("volume", "show", "demo", "--json");
            Assert.True(code == 0, text);
            string drive;
            using (JsonDocument demo = JsonDocument.Parse(text))
            {
                drive = demo.RootElement.GetProperty("groups")[0].GetProperty("legs")[0].GetProperty("drive").GetString()!;
            }

            (code, text) = node.Cli("drive", "evacuate", drive, "--wait", "--timeout", "120");
            Assert.True(code == 0, text);
            Assert.Contains("100.0%", text, StringComparison.Ordinal);
            (code, text) = node.Cli("volume", "show", "demo", "--wait", "--timeout", "180", "--json");
            Assert.True(code == 0, text);
            using (JsonDocument demo = JsonDocument.Parse(text))
            {
                string[] drives = [.. demo.RootElement.GetProperty("groups").EnumerateArray().SelectMany(g => g.GetProperty("legs").EnumerateArray()).Select(l => l.GetProperty("drive").GetString()!)];
                Assert.DoesNotContain(drive, drives);
                Assert.Equal("healthy", demo.RootElement.GetProperty("health").GetString());
            }
            (code, text) = node.Cli("drive", "show", drive, "--json");
            using (JsonDocument d = JsonDocument.Parse(text))
            {
                Assert.Equal(0, d.RootElement.GetProperty("allocatedSegments").GetInt32());
                Assert.True(d.RootElement.GetProperty("draining").GetBoolean());
            }
            string[] verify = [.. Tool.FioVerify(node.DemoUri, "write", "128m", "64k", 4, name: "evacuate"), "--verify_only", "--verify_state_load=0"];
            (code, text) = Tool.Run("fio", verify, s_fioTimeout);
            Assert.True(code == 0, "data written before the evacuation does not verify after it:\n" + text);

            (code, text) = node.Cli("drive", "undrain", drive);
            Assert.True(code == 0, text);
            Assert.Contains("not draining", text, StringComparison.Ordinal);
        }
        catch
        {
            output.WriteLine(node.Logs());
            throw;
        }
    }

    [Fact]
    public void Cli_refuses_bad_usage_with_one_line_and_exit_2()
    {
        foreach (string[] args in new[]
        {
            new[] { "volume", "frobnicate" },
            ["volume", "show"],
            ["volume", "create", "x", "--layout", "mirror"],
            ["volume", "create", "x", "--layout", "mirror", "--size", "-3"],
            ["volume", "grow", "x", "--size", "1GiB", "--bogus"],
        })
        {
            (int code, string text) = node.Cli(args);
            Assert.True(code == 2, $"shoal {string.Join(' ', args)}: exit {code}: {text}");
            Assert.StartsWith("shoal volume", text.TrimStart(), StringComparison.Ordinal);
        }
        (int c, string t) = ShoalProcess.RunToEnd("volume", "list", "--api", node.Api, "--token-file", "/nonexistent/token");
        Assert.Equal(2, c);
        Assert.Contains("no token", t, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rest_bad_input_gets_4xx_problem_json_and_changes_nothing()
    {
        using HttpClient admin = node.Http(node.AdminToken);
        // Another test's delete may still be freeing segments: start from a settled cluster.
        long deadline = Environment.TickCount64 + 60_000;
        while (await Releasing(admin) > 0)
        {
            Assert.True(Environment.TickCount64 < deadline, "segments still releasing after 60 s");
            await Task.Delay(250);
        }
        string before = await State(admin);
        (string Method, string Path, string? Body, string? Token, HttpStatusCode Expected)[] cases =
        [
            ("POST", "volumes", "{\"name\":\"bad1\", \"layout\":", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "[1,2,3]", "admin", HttpStatusCode.BadRequest),
            ("GET", "volumes?limit=0", null, "admin", HttpStatusCode.BadRequest),
            ("GET", "volumes?limit=1001", null, "admin", HttpStatusCode.BadRequest),
            ("GET", "volumes?limit=ten", null, "admin", HttpStatusCode.BadRequest),
            ("GET", "volumes?after=Not%20a%20name", null, "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"mirror\",\"sizeBytes\":-4096}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"mirror\",\"sizeBytes\":0}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"mirror\",\"sizeBytes\":99999999999999999999999}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"mirror\",\"sizeBytes\":9223372036854775807}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"mirror\",\"sizeBytes\":1000}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"raid5\",\"sizeBytes\":134217728}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"mirror\",\"legs\":4,\"sizeBytes\":134217728}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"mirror\",\"sizeBytes\":134217728,\"spread\":\"galaxy\"}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"bad1\",\"layout\":\"mirror\",\"sizeBytes\":134217728,\"colour\":\"red\"}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"../etc\",\"layout\":\"mirror\",\"sizeBytes\":134217728}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"\",\"layout\":\"mirror\",\"sizeBytes\":134217728}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"" + new string('a', 65) + "\",\"layout\":\"mirror\",\"sizeBytes\":134217728}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes", "{\"name\":\"demo\",\"layout\":\"mirror\",\"sizeBytes\":268435456,\"spread\":\"drive\"}", "admin", HttpStatusCode.Conflict),
            ("POST", "volumes/demo/grow", "{\"sizeBytes\":536870912}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes/demo/grow", "{\"sizeBytes\":-1}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes/demo/grow", "{}", "admin", HttpStatusCode.BadRequest),
            ("POST", "volumes/nope/grow", "{\"sizeBytes\":2147483648}", "admin", HttpStatusCode.NotFound),
            ("POST", "volumes/bad%20name/attach", null, "admin", HttpStatusCode.BadRequest),
            ("DELETE", "volumes/demo", null, "admin", HttpStatusCode.Conflict),
            ("POST", "volumes/demo/attach", "{\"node\":\"no-such-node\"}", "admin", HttpStatusCode.NotFound),
            ("GET", "drives/not-a-drive-id", null, "admin", HttpStatusCode.BadRequest),
            ("DELETE", "drives/00000000000000000000000000000000", null, "admin", HttpStatusCode.NotFound),
            ("POST", "cluster/down", "{}", "admin", HttpStatusCode.BadRequest),
            ("POST", "nodes/shoal1/maintenance", "{}", "admin", HttpStatusCode.BadRequest),
            ("POST", "nodes/shoal1/maintenance", "{\"on\":\"yes\"}", "admin", HttpStatusCode.BadRequest),
            ("POST", "nodes/no-such-node/maintenance", "{\"on\":true}", "admin", HttpStatusCode.NotFound),
            ("POST", "nodes/shoal1/maintenance", "{\"on\":true}", "admin", HttpStatusCode.Conflict),
            ("POST", "nodes/shoal1/maintenance", "{\"on\":true}", "read", HttpStatusCode.Forbidden),
            ("POST", "cluster/leave", "{\"address\":\"akka.tcp://shoal@10.9.9.9:1\"}", "admin", HttpStatusCode.NotFound),
            ("POST", "volumes", "{\"name\":\"bad2\",\"layout\":\"mirror\",\"sizeBytes\":134217728}", null, HttpStatusCode.Unauthorized),
            ("POST", "volumes", "{\"name\":\"bad2\",\"layout\":\"mirror\",\"sizeBytes\":134217728}", "wrong-token-0123456789", HttpStatusCode.Unauthorized),
            ("POST", "volumes", "{\"name\":\"bad2\",\"layout\":\"mirror\",\"sizeBytes\":134217728}", "read", HttpStatusCode.Forbidden),
            ("DELETE", "volumes/demo", null, "read", HttpStatusCode.Forbidden),
            ("GET", "volumes", null, null, HttpStatusCode.Unauthorized),
            ("PUT", "volumes", "{}", "admin", HttpStatusCode.MethodNotAllowed),
            ("GET", "no/such/route", null, "admin", HttpStatusCode.NotFound),
        ];
        foreach ((string method, string path, string? body, string? token, HttpStatusCode expected) in cases)
        {
            using HttpClient http = node.Http(token switch { "admin" => node.AdminToken, "read" => node.ReadToken, _ => token });
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = body == null ? null : EmbeddedNode.Json(body) };
            using HttpResponseMessage response = await http.SendAsync(request);
            string text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"{method} {path} {body}: expected {(int)expected}, got {(int)response.StatusCode}: {text}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using JsonDocument problem = JsonDocument.Parse(text);
            Assert.Equal((int)expected, problem.RootElement.GetProperty("status").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("title").GetString()));
        }
        Assert.Equal(before, await State(admin));

        using HttpClient reader = node.Http(node.ReadToken);
        using HttpResponseMessage read = await reader.GetAsync("volumes");
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task The_volume_list_pages_in_name_order_through_link_headers()
    {
        using HttpClient admin = node.Http(node.AdminToken);
        foreach (string name in new[] { "page-b", "page-a" })
        {
            using HttpResponseMessage created = await admin.PostAsync("volumes", EmbeddedNode.Json($"{{\"name\":\"{name}\",\"layout\":\"concat\",\"sizeBytes\":67108864}}"));
            Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, await created.Content.ReadAsStringAsync());
        }
        List<string> whole = await Names(admin, "volumes");
        Assert.Equal([.. whole.Order(StringComparer.Ordinal)], whole);
        Assert.Contains("page-a", whole);
        Assert.Contains("page-b", whole);

        var paged = new List<string>();
        string? next = "volumes?limit=1";
        int pages = 0;
        while (next != null)
        {
            using HttpResponseMessage page = await admin.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            using JsonDocument doc = JsonDocument.Parse(await page.Content.ReadAsStringAsync());
            Assert.True(doc.RootElement.GetArrayLength() <= 1);
            paged.AddRange(doc.RootElement.EnumerateArray().Select(v => v.GetProperty("name").GetString()!));
            next = page.Headers.TryGetValues("Link", out IEnumerable<string>? links)
                ? Regex.Match(links.Single(), "^</api/v1/(volumes\\?[^>]+)>; rel=\"next\"$").Groups[1].Value is { Length: > 0 } path ? path : throw new InvalidOperationException("bad Link " + links.Single())
                : null;
            Assert.True(++pages <= whole.Count + 1, "the pages do not end");
        }
        Assert.Equal(whole, paged);

        (int code, string text) = node.Cli("volume", "list", "--json");
        Assert.True(code == 0, text);
        using (JsonDocument cli = JsonDocument.Parse(text))
        {
            Assert.Equal(whole, cli.RootElement.EnumerateArray().Select(v => v.GetProperty("name").GetString()!).ToList());
        }
        // A just-created one-group volume can be wholly released before the entity answers its delete (that answer
        // once threw in the gateway: 500).
        foreach (string name in new[] { "page-a", "page-b" })
        {
            using HttpResponseMessage deleted = await admin.DeleteAsync("volumes/" + name);
            string body = await deleted.Content.ReadAsStringAsync();
            Assert.True(deleted.StatusCode == HttpStatusCode.Accepted, $"DELETE volumes/{name}: {(int)deleted.StatusCode} {body}\n{node.Logs()}");
        }
    }

    private static async Task<List<string>> Names(HttpClient http, string path)
    {
        using JsonDocument doc = JsonDocument.Parse(await http.GetStringAsync(path));
        return [.. doc.RootElement.EnumerateArray().Select(v => v.GetProperty("name").GetString()!)];
    }

    [Fact]
    public void Upgrade_plan_and_maintenance_refuse_the_node_holding_every_in_sync_leg()
    {
        // One node holds both legs of every group of demo: it may not go into maintenance, and the plan says why.
        (int code, string text) = node.Cli("upgrade", "plan", "--json");
        Assert.True(code == 0, text);
        using (JsonDocument plan = JsonDocument.Parse(text))
        {
            JsonElement step = Assert.Single(plan.RootElement.GetProperty("steps").EnumerateArray());
            Assert.Equal("shoal1", step.GetProperty("node").GetString());
            Assert.Contains("last", step.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains(step.GetProperty("refusals").EnumerateArray(), r => r.GetString() == "volume demo group 0: its only in-sync legs are on node shoal1");
        }
        (code, text) = node.Cli("node", "maintenance", "shoal1", "on");
        Assert.True(code == 1, text);
        Assert.Contains("409", text, StringComparison.Ordinal);
        Assert.Contains("volume demo group 0: its only in-sync legs are on node shoal1", text, StringComparison.Ordinal);
        (code, text) = node.Cli("node", "list");
        Assert.True(code == 0 && text.Contains("MAINTENANCE", StringComparison.Ordinal), text);
        (code, text) = node.Cli("node", "maintenance", "shoal1", "sideways");
        Assert.True(code == 2, text);
    }

    [Fact]
    public async Task Creating_an_existing_volume_with_the_same_spec_returns_it()
    {
        using HttpClient admin = node.Http(node.AdminToken);
        const string spec = "{\"name\":\"same\",\"layout\":\"mirror\",\"sizeBytes\":67108864,\"spread\":\"drive\"}";
        using HttpResponseMessage first = await admin.PostAsync("volumes", EmbeddedNode.Json(spec));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using HttpResponseMessage again = await admin.PostAsync("volumes", EmbeddedNode.Json(spec));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using JsonDocument a = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        using JsonDocument b = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal(a.RootElement.GetProperty("uid").GetString(), b.RootElement.GetProperty("uid").GetString());
        using HttpResponseMessage grown = await admin.PostAsync("volumes/same/grow", EmbeddedNode.Json("{\"sizeBytes\":134217728}"));
        Assert.Equal(HttpStatusCode.OK, grown.StatusCode);
        using JsonDocument g = JsonDocument.Parse(await grown.Content.ReadAsStringAsync());
        Assert.Equal(134217728, g.RootElement.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(2, g.RootElement.GetProperty("groups").GetArrayLength());
        using HttpResponseMessage deleted = await admin.DeleteAsync("volumes/same");
        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
    }

    [Fact]
    public async Task Metrics_page_parses_and_counts_the_io_fio_did()
    {
        Tool.Require("fio");
        (int code, string text) = Tool.Run("fio", Tool.FioVerify(node.DemoUri, "randwrite", "16m", "4k", 4, name: "metrics"), s_fioTimeout);
        Assert.True(code == 0, text);
        using var http = new HttpClient();
        using HttpResponseMessage response = await http.GetAsync(node.Base + "/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        string page = await response.Content.ReadAsStringAsync();
        Dictionary<string, double> samples = Prometheus.Parse(page);

        Assert.True(samples["shoal_volume_writes_total{volume=\"demo\",node=\"shoal1\"}"] >= 4096, "fio wrote 4096 blocks of 4 KiB");
        Assert.True(samples["shoal_volume_reads_total{volume=\"demo\",node=\"shoal1\"}"] >= 4096, "fio verified 4096 blocks");
        Assert.Equal(1, samples["shoal_cluster_members{status=\"up\"}"]);
        Assert.Equal(32, samples["shoal_volume_legs{volume=\"demo\",state=\"inSync\"}"]);
        Assert.Equal(4, samples.Keys.Count(k => k.StartsWith("shoal_drive_capacity_bytes{", StringComparison.Ordinal)));
        double driveWrites = samples.Where(kv => kv.Key.StartsWith("shoal_drive_writes_total{", StringComparison.Ordinal)).Sum(kv => kv.Value);
        Assert.True(driveWrites >= 2 * 4096, $"every write lands on both legs' drives: {driveWrites}");
        Prometheus.AssertHistogram(samples, "shoal_volume_write_latency_seconds", "{volume=\"demo\",node=\"shoal1\"");
        Prometheus.AssertHistogram(samples, "shoal_volume_read_latency_seconds", "{volume=\"demo\",node=\"shoal1\"");
    }

    [Fact]
    public async Task OpenApi_document_lists_every_route()
    {
        using var http = new HttpClient();
        string text = await http.GetStringAsync(node.Api + "/openapi.json");
        using JsonDocument doc = JsonDocument.Parse(text);
        Assert.Equal("3.0.3", doc.RootElement.GetProperty("openapi").GetString());
        JsonElement paths = doc.RootElement.GetProperty("paths");
        foreach ((string path, string method) in new[]
        {
            ("/volumes", "get"), ("/volumes", "post"), ("/volumes/{name}", "get"), ("/volumes/{name}", "delete"), ("/volumes/{name}/grow", "post"),
            ("/volumes/{name}/attach", "post"), ("/volumes/{name}/detach", "post"), ("/drives", "get"), ("/drives/{id}", "get"), ("/drives/{id}", "delete"),
            ("/nodes", "get"), ("/nodes/{name}/drain", "post"), ("/nodes/{name}/undrain", "post"), ("/drives/{id}/evacuate", "post"), ("/cluster", "get"), ("/cluster/sharding", "get"), ("/cluster/leave", "post"), ("/cluster/down", "post"), ("/stats", "get"),
            ("/nodes/{name}/maintenance", "post"), ("/upgrade/plan", "get"),
        })
        {
            Assert.True(paths.TryGetProperty(path, out JsonElement item) && item.TryGetProperty(method, out _), $"{method} {path} missing from the OpenAPI document");
        }
        JsonElement schemas = doc.RootElement.GetProperty("components").GetProperty("schemas");
        foreach (Match m in RefPattern().Matches(text))
        {
            Assert.True(schemas.TryGetProperty(m.Groups[1].Value, out _), $"dangling $ref {m.Groups[1].Value}");
        }
    }

    /// <summary>What bad requests must not change: every volume's name, size, epoch and legs, every drive's allocation.</summary>
    private static async Task<string> State(HttpClient admin)
    {
        using JsonDocument volumes = JsonDocument.Parse(await admin.GetStringAsync("volumes"));
        using JsonDocument drives = JsonDocument.Parse(await admin.GetStringAsync("drives"));
        return string.Join("\n", volumes.RootElement.EnumerateArray().Select(v => string.Create(CultureInfo.InvariantCulture,
            $"{v.GetProperty("name")} {v.GetProperty("sizeBytes")} {v.GetProperty("epoch")} {v.GetProperty("groups").GetRawText()} {v.GetProperty("attachments").GetArrayLength()}"))
            .Concat(drives.RootElement.EnumerateArray().Select(d => $"{d.GetProperty("id")} {d.GetProperty("allocatedSegments")} {d.GetProperty("status")}")).Order());
    }

    private static async Task<int> Releasing(HttpClient admin)
    {
        using JsonDocument drives = JsonDocument.Parse(await admin.GetStringAsync("drives"));
        return drives.RootElement.EnumerateArray().Sum(d => d.GetProperty("releasingSegments").GetInt32());
    }


    [GeneratedRegex("\"\\$ref\": \"#/components/schemas/([A-Za-z]+)\"")]
    private static partial Regex RefPattern();
}
