using Shoal.DataPath.Drives;
using Shoal.DataPath.Wire;

namespace Shoal.Host.Node;

/// <summary>
/// Drives an operator added while the node ran (<c>shoal drive add</c>): opened (and formatted) like the command
/// line's, and listed in the data directory's <c>drives.added</c> so the next start opens them too.
/// </summary>
internal static class AddedDrives
{
    private const string FileName = "drives.added";
    private static readonly object s_gate = new();

    public static DriveStore Open(NodeOptions options, ClusterKey key, string path, long createBytes, Action<string> log)
    {
        if (!Path.IsPathFullyQualified(path))
        {
            throw new ArgumentException($"drive path {path} must be absolute");
        }
        if (createBytes == 0 && !File.Exists(path) && !path.StartsWith("/dev/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{path} does not exist (give a size to create a file drive)");
        }
        DriveStore store = DriveStore.Open(path, new DriveOpenOptions { ClusterId = key.ClusterId, CreateBytes = createBytes, SegmentBytes = options.SegmentBytes, Checksums = options.Checksums }, log);
        lock (s_gate)
        {
            File.AppendAllLines(Path.Combine(options.DataDir, FileName), [path]);
        }
        return store;
    }

    public static IEnumerable<(string Path, long CreateBytes)> Read(string dataDir)
    {
        string file = Path.Combine(dataDir, FileName);
        return File.Exists(file)
            ? File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct().Select(l => (l, 0L))
            : [];
    }
}
