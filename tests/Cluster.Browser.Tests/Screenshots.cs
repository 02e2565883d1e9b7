using Microsoft.Playwright;

namespace Shoal.Browser.Tests;

/// <summary>
/// Full-page screenshots of one test, numbered in the order taken, under the build output's
/// <c>artifacts/screenshots/&lt;test&gt;/</c> (emptied when the test starts again).
/// </summary>
internal sealed class Screenshots
{
    private readonly IPage _page;
    private int _count;

    public Screenshots(IPage page, string test)
    {
        _page = page;
        Directory = Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots", test);
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public async Task<string> TakeAsync(string step)
    {
        string path = Path.Combine(Directory, $"{++_count:00}-{step}.png");
        // From the top: the GUI's header is sticky and would otherwise be drawn wherever the last action scrolled to.
        await _page.EvaluateAsync("() => window.scrollTo({ top: 0, behavior: 'instant' })");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }
}
