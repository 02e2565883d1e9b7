using Microsoft.Playwright;

namespace Shoal.Browser.Tests;

/// <summary>Debian's chromium driven by Playwright (no browser download is possible here; see ENVIRONMENT.md).</summary>
internal static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] s_args =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        await SystemPackages.EnsureAsync(ExecutablePath, "chromium");
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Args = s_args,
            Headless = true,
            Timeout = 60_000,
        });
    }
}
