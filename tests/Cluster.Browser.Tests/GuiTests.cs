using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Shoal.Actors.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Shoal.Browser.Tests;

/// <summary>
/// The web GUI in chromium against real <c>shoal node</c> processes: a single node with every role (sign in, create a
/// mirror through the form, a refused request's problem, attach, live IOPS, detach), and a three-node cluster on
/// PostgreSQL where a leg's node is killed (stale leg, rebuild progress, healthy again).
/// </summary>
public sealed partial class GuiTests(PostgresServer postgres, ITestOutputHelper output) : IClassFixture<PostgresServer>
{
    /// <summary>State the GUI shows after a poll (every 2 s) or an action: the common bound for an expectation.</summary>
    private const float ExpectMs = 20_000;

    static GuiTests() => SetDefaultExpectTimeout(ExpectMs);

    [Fact]
    public async Task Single_node_create_a_mirror_through_the_form_then_attach_and_detach()
    {
        var shape = new GuiCluster.Shape(Nodes: 1, DrivesPerNode: 4, DriveSize: "1GiB", SegmentSize: "64MiB", Spread: "drive");
        using var cluster = new GuiCluster(shape, journalConnection: null);
        await RunAsync(cluster, "single-node", async gui =>
        {
            IPage page = gui.Page;
            await Expect(page.GetByTestId("token-dialog")).ToBeVisibleAsync();
            await gui.Screenshots.TakeAsync("sign-in");

            // A wrong token is refused with the gateway's own words; the right one opens the dashboard.
            await page.GetByTestId("token-input").FillAsync("not-the-token-0123456789");
            await page.GetByTestId("token-submit").ClickAsync();
            await Expect(page.GetByTestId("token-error")).ToContainTextAsync("The bearer token is not valid");
            await gui.SignInAsync(cluster.AdminToken);

            ILocator member = page.Locator("[data-testid=member-row][data-name=n1]");
            await Expect(member).ToHaveAttributeAsync("data-status", "up");
            await Expect(member.GetByTestId("member-reachable")).ToHaveTextAsync("reachable");
            await Expect(page.Locator("[data-testid=node-row][data-node=n1] [data-testid=node-capacity]")).ToBeVisibleAsync();
            await Expect(page.Locator("[data-testid=drive-row][data-status=online] [data-testid=drive-capacity]")).ToHaveCountAsync(4);
            await Expect(page.GetByTestId("volumes-empty")).ToBeVisibleAsync();

            // Create mirror:2, 256 MiB, legs spread over drives, through the form.
            await page.GetByTestId("create-name").FillAsync("gui1");
            await page.GetByTestId("create-layout").SelectOptionAsync("mirror");
            await page.GetByTestId("create-size").FillAsync("256");
            await page.GetByTestId("create-unit").SelectOptionAsync(new SelectOptionValue { Label = "MiB" });
            await page.GetByTestId("create-legs").FillAsync("2");
            await page.GetByTestId("create-spread").SelectOptionAsync("drive");
            await page.GetByTestId("create-submit").ClickAsync();
            await Expect(page.GetByTestId("create-result")).ToContainTextAsync("Created gui1");

            ILocator card = gui.Volume("gui1");
            await Expect(card.GetByTestId("volume-layout")).ToHaveTextAsync("mirror:2");
            await Expect(card.GetByTestId("volume-size")).ToHaveTextAsync("256 MiB");
            await Expect(card.GetByTestId("volume-health")).ToHaveTextAsync("healthy");
            // 256 MiB in 64 MiB segments: four groups, each two in-sync legs on two different drives of n1.
            ILocator groups = card.GetByTestId("group");
            await Expect(groups).ToHaveCountAsync(4);
            for (int g = 0; g < 4; g++)
            {
                ILocator legs = groups.Nth(g).GetByTestId("leg");
                await Expect(legs).ToHaveCountAsync(2);
                await Expect(groups.Nth(g).Locator("[data-testid=leg][data-state=inSync][data-node=n1]")).ToHaveCountAsync(2);
                await Expect(legs.Nth(0).GetByTestId("leg-state")).ToHaveTextAsync("in sync");
                string[] drives = await legs.EvaluateAllAsync<string[]>("legs => legs.map(l => l.dataset.drive)");
                Assert.Equal(2, drives.Distinct().Count());
                await Expect(legs.Nth(0).GetByTestId("leg-drive")).ToHaveTextAsync(new Regex(@"^d[0-3]\.img · seg \d+$"));
            }
            await Expect(card.GetByTestId("not-attached")).ToBeVisibleAsync();
            await gui.Screenshots.TakeAsync("created-mirror");

            // The same name with another size: the gateway's 409 problem reaches the operator.
            await page.GetByTestId("create-size").FillAsync("512");
            await page.GetByTestId("create-submit").ClickAsync();
            await Expect(page.GetByTestId("problem")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("problem-status")).ToHaveTextAsync("HTTP 409");
            await Expect(page.GetByTestId("problem-detail")).ToContainTextAsync("volume gui1 exists with another spec");
            await Expect(page.GetByTestId("create-result")).ToContainTextAsync("Not created");
            await gui.Screenshots.TakeAsync("create-conflict");
            await page.GetByTestId("problem-close").ClickAsync();
            await Expect(page.GetByTestId("problem")).ToBeHiddenAsync();

            // Attach on n1: the attachment and its NBD export appear.
            await card.GetByTestId("attach-node").SelectOptionAsync("n1");
            await card.GetByTestId("attach").ClickAsync();
            await Expect(card.GetByTestId("volume-action-result")).ToContainTextAsync("Attached on n1");
            ILocator attachment = card.Locator("[data-testid=attachment][data-node=n1]");
            await Expect(attachment).ToHaveAttributeAsync("data-mode", "readWrite");
            await Expect(attachment.GetByTestId("nbd-uri")).ToHaveTextAsync(cluster.NbdUri("gui1"));

            // Live I/O: fio through the export; the card shows IOPS from the counters' deltas, a latency and a sparkline.
            using (await FioLoad.StartAsync(cluster.NbdUri("gui1"), "randrw", iops: 200))
            {
                await Expect(card.GetByTestId("iops")).ToHaveAttributeAsync("data-value", AtLeastOne());
                await Expect(card.GetByTestId("latency")).ToHaveTextAsync(new Regex(@"\d+(\.\d+)? (µs|ms) / \d+(\.\d+)? (µs|ms)"));
                await Expect(card.GetByTestId("sparkline")).ToHaveAttributeAsync("data-points", new Regex(@"^([3-9]|\d\d)$"));
                await gui.Screenshots.TakeAsync("attached-under-io");
            }

            // Detach through the GUI.
            await attachment.GetByTestId("detach").ClickAsync();
            await Expect(card.GetByTestId("volume-action-result")).ToHaveTextAsync("Detached from n1");
            await Expect(card.GetByTestId("not-attached")).ToBeVisibleAsync();
            await Expect(card.GetByTestId("io-idle")).ToBeVisibleAsync();
            await gui.Screenshots.TakeAsync("detached");

            // What the GUI showed is what the API holds.
            using var api = new GatewayClient(cluster.ApiUrl, cluster.AdminToken);
            JsonElement volume = await api.GetAsync("volumes/gui1");
            Assert.Equal("mirror", volume.GetProperty("layout").GetString());
            Assert.Equal(2, volume.GetProperty("legs").GetInt32());
            Assert.Equal(0, volume.GetProperty("attachments").GetArrayLength());

            // Delete asks to be clicked twice; the card goes once the volume's segments are released.
            await card.GetByTestId("delete").ClickAsync();
            await Expect(card.GetByTestId("delete")).ToHaveTextAsync("Confirm delete of gui1");
            await card.GetByTestId("delete").ClickAsync();
            await Expect(card).ToHaveCountAsync(0);
            await Expect(page.GetByTestId("volumes-empty")).ToBeVisibleAsync();
        });
    }

    [Fact]
    public async Task Kill_a_leg_node_and_watch_the_leg_go_stale_rebuild_and_heal()
    {
        // A dead leg is stale from the client's first failed write (once the volume's entity answers, which takes up to
        // ~20 s when it lived on the dead node) until its drive is out: 30 s after the drive went offline keeps that
        // window several polls wide. A 2 MiB/s rebuild copies each replaced 16 MiB leg in about 8 s.
        var shape = new GuiCluster.Shape(Nodes: 3, DrivesPerNode: 2, DriveSize: "256MiB", SegmentSize: "16MiB", Spread: "node")
        {
            OutAfterSeconds = 30,
            ResyncRate = "2MiB",
        };
        using var cluster = new GuiCluster(shape, postgres.ConnectionString);
        await RunAsync(cluster, "kill-and-rebuild", async gui =>
        {
            IPage page = gui.Page;
            await gui.SignInAsync(cluster.AdminToken);
            await Expect(page.Locator("[data-testid=member-row][data-status=up][data-reachable=true]")).ToHaveCountAsync(3);
            await Expect(page.Locator("[data-testid=drive-row][data-status=online]")).ToHaveCountAsync(6);

            using var api = new GatewayClient(cluster.ApiUrl, cluster.AdminToken);
            await api.CreateAsync(new { name = "vol1", layout = "mirror", sizeBytes = 64L << 20, legs = 2 });
            await api.PostAsync("volumes/vol1/attach", new { node = "n1" });

            ILocator card = gui.Volume("vol1");
            ILocator legs = card.GetByTestId("leg");
            await Expect(card.Locator("[data-testid=leg][data-state=inSync]")).ToHaveCountAsync(8);
            await Expect(card.GetByTestId("volume-health")).ToHaveTextAsync("healthy");

            // The victim: the node other than n1 (which serves the GUI and the export) holding the most legs.
            string[] legNodes = await legs.EvaluateAllAsync<string[]>("legs => legs.map(l => l.dataset.node)");
            int victim = legNodes.Where(n => n != "n1").GroupBy(n => n).OrderByDescending(g => g.Count()).Select(g => int.Parse(g.Key[1..], CultureInfo.InvariantCulture)).First();
            int victimLegs = legNodes.Count(n => n == $"n{victim}");
            output.WriteLine($"legs by node: {string.Join(" ", legNodes)}; killing n{victim} ({victimLegs} legs)");

            // Writes keep going so the client meets the dead legs at once and marks them stale.
            using FioLoad fio = await FioLoad.StartAsync(cluster.NbdUri("vol1"), "randwrite", iops: 100);
            await Expect(card.GetByTestId("iops")).ToHaveAttributeAsync("data-value", AtLeastOne());
            await gui.Screenshots.TakeAsync("healthy-under-io");

            var clock = Stopwatch.StartNew();
            cluster.Kill9(victim);

            ILocator stale = card.Locator($"[data-testid=leg][data-state=stale][data-node=n{victim}]");
            await Expect(stale.First).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await Expect(stale.First.GetByTestId("leg-state")).ToHaveTextAsync("stale");
            await Expect(card).ToHaveAttributeAsync("data-health", new Regex("^(degraded|rebuilding)$"));
            await Expect(page.Locator($"[data-testid=member-row][data-name=n{victim}][data-reachable=true]")).ToHaveCountAsync(0);
            await Expect(page.Locator($"[data-testid=drive-row][data-node=n{victim}][data-status=online]")).ToHaveCountAsync(0);
            output.WriteLine($"stale leg shown {clock.Elapsed.TotalSeconds:0.0} s after the kill");
            await gui.Screenshots.TakeAsync("stale-leg");

            // Past out-after the dead legs are replaced on the surviving nodes and rebuilt: a progress bar with a percent.
            ILocator progress = card.GetByTestId("rebuild-progress");
            await Expect(progress).ToBeVisibleAsync(new() { Timeout = 90_000 });
            await Expect(progress).ToHaveTextAsync(new Regex(@"^\d{1,3}%$"));
            await Expect(card.Locator("[data-testid=leg][data-state=rebuilding] [data-testid=leg-rebuild]").First).ToBeVisibleAsync();
            output.WriteLine($"rebuild shown {clock.Elapsed.TotalSeconds:0.0} s after the kill: {await card.GetByTestId("rebuild-details").TextContentAsync()}");
            await Expect(progress).ToHaveTextAsync(new Regex(@"^[1-9]\d*%$"), new() { Timeout = 60_000 });
            await Expect(card.GetByTestId("rebuild-details")).ToContainTextAsync("MiB/s");
            await Expect(card.GetByTestId("rebuild-details")).ToContainTextAsync("ETA");
            output.WriteLine($"rebuild progress {await progress.TextContentAsync()}: {await card.GetByTestId("rebuild-details").TextContentAsync()}");
            await gui.Screenshots.TakeAsync("rebuilding");

            // Healthy again: every leg in sync, none on the dead node, no progress bar; its drives are out.
            await Expect(card).ToHaveAttributeAsync("data-health", "healthy", new() { Timeout = 120_000 });
            await Expect(card.Locator("[data-testid=leg][data-state=inSync]")).ToHaveCountAsync(8);
            await Expect(card.Locator($"[data-testid=leg][data-node=n{victim}]")).ToHaveCountAsync(0);
            await Expect(progress).ToHaveCountAsync(0);
            await Expect(page.Locator($"[data-testid=drive-row][data-node=n{victim}][data-status=out]")).ToHaveCountAsync(2);
            await Expect(page.Locator($"[data-testid=node-row][data-node=n{victim}]")).ToHaveAttributeAsync("data-status", "gone");
            output.WriteLine($"healthy {clock.Elapsed.TotalSeconds:0.0} s after the kill");
            await gui.Screenshots.TakeAsync("healed");
        });
    }

    /// <summary>Starts the cluster, opens the GUI, runs the steps; on failure keeps the trace and prints the nodes' logs.</summary>
    private async Task RunAsync(GuiCluster cluster, string test, Func<GuiSession, Task> steps)
    {
        var clock = Stopwatch.StartNew();
        await Task.Run(cluster.StartAll);
        output.WriteLine($"cluster up in {clock.Elapsed.TotalSeconds:0.0} s; GUI at {cluster.GuiUrl}");
        await using GuiSession gui = await GuiSession.OpenAsync(cluster.GuiUrl, test);
        output.WriteLine($"screenshots: {gui.Screenshots.Directory}");
        try
        {
            await steps(gui);
            gui.AssertNoScriptErrors();
        }
        catch
        {
            await gui.Screenshots.TakeAsync("failure");
            output.WriteLine($"trace: {await gui.SaveTraceAsync()}");
            output.WriteLine(cluster.Logs());
            throw;
        }
        output.WriteLine($"done in {clock.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>An IOPS figure of at least one.</summary>
    [GeneratedRegex(@"^[1-9]\d*(\.\d+)?$")]
    private static partial Regex AtLeastOne();
}
