using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace Shoal.Browser.Tests;

/// <summary>
/// One browser tab on the GUI: chromium launched through Playwright, the page's script errors and Content-Security-Policy
/// violations collected (the GUI must run under the gateway's CSP), a Playwright trace kept for a failed test, and
/// numbered screenshots.
/// </summary>
internal sealed class GuiSession : IAsyncDisposable
{
    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;
    private readonly IBrowserContext _context;
    private readonly ConcurrentQueue<string> _scriptErrors = new();

    private GuiSession(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page, string test)
    {
        _playwright = playwright;
        _browser = browser;
        _context = context;
        Page = page;
        Screenshots = new Screenshots(page, test);
        page.PageError += (_, error) => _scriptErrors.Enqueue("page error: " + error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error" && message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                _scriptErrors.Enqueue("CSP: " + message.Text);
            }
        };
    }

    public IPage Page { get; }

    public Screenshots Screenshots { get; }

    public static async Task<GuiSession> OpenAsync(string url, string test)
    {
        IPlaywright playwright = await Playwright.CreateAsync();
        try
        {
            IBrowser browser = await Chromium.LaunchAsync(playwright);
            IBrowserContext context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                ViewportSize = new ViewportSize { Width = 1440, Height = 1000 },
                Locale = "en-GB",
            });
            await context.Tracing.StartAsync(new TracingStartOptions { Snapshots = true, Screenshots = false, Sources = false });
            IPage page = await context.NewPageAsync();
            var session = new GuiSession(playwright, browser, context, page, test);
            await page.GotoAsync(url);
            return session;
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    /// <summary>Signs in through the token prompt and waits for the dashboard.</summary>
    public async Task SignInAsync(string token)
    {
        await Page.GetByTestId("token-input").FillAsync(token);
        await Page.GetByTestId("token-submit").ClickAsync();
        await Assertions.Expect(Page.GetByTestId("token-dialog")).ToBeHiddenAsync();
        await Assertions.Expect(Page.GetByTestId("poll-status")).ToHaveAttributeAsync("data-state", "ok");
    }

    /// <summary>A volume's card.</summary>
    public ILocator Volume(string name) => Page.Locator($"[data-testid=volume-card][data-volume=\"{name}\"]");

    public void AssertNoScriptErrors() => Assert.True(_scriptErrors.IsEmpty, "the GUI's script failed:\n" + string.Join("\n", _scriptErrors));

    /// <summary>Writes the Playwright trace (DOM snapshots of every step) beside the screenshots; open it with 'playwright show-trace'.</summary>
    public async Task<string> SaveTraceAsync()
    {
        string path = Path.Combine(Screenshots.Directory, "trace.zip");
        await _context.Tracing.StopAsync(new TracingStopOptions { Path = path });
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _context.DisposeAsync();
            await _browser.DisposeAsync();
        }
        finally
        {
            _playwright.Dispose();
        }
    }
}
