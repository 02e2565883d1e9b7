using Shoal.Actors.Tests.Infrastructure;

namespace Shoal.Browser.Tests;

/// <summary>
/// The system tools these tests drive (chromium, fio), installed with apt when missing. A tool that cannot be installed
/// fails the test with the reason; nothing is skipped.
/// </summary>
internal static class SystemPackages
{
    private static readonly TimeSpan s_installTimeout = TimeSpan.FromMinutes(10);
    private static readonly SemaphoreSlim s_lock = new(1, 1);

    /// <summary>Makes sure <paramref name="path"/> exists, installing <paramref name="package"/> if it does not.</summary>
    public static async Task EnsureAsync(string path, string package)
    {
        if (File.Exists(path))
        {
            return;
        }
        await s_lock.WaitAsync();
        try
        {
            if (File.Exists(path))
            {
                return;
            }
            var environment = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
            string[] install = ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "-q", package];
            CommandResult result = await ExternalCommand.RunAsync("apt-get", install, s_installTimeout, environment);
            if (!result.Succeeded)
            {
                // A new machine may have no package lists yet.
                await ExternalCommand.RunAsync("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update", "-q"], s_installTimeout, environment);
                result = await ExternalCommand.RunAsync("apt-get", install, s_installTimeout, environment);
            }
            if (!File.Exists(path))
            {
                Assert.Fail($"{path} is missing and 'apt-get install -y {package}' did not provide it (run as root, or install it first): {result}");
            }
        }
        finally
        {
            s_lock.Release();
        }
    }
}
