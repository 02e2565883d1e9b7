using Shoal.Actors.Protocol;

namespace Shoal.Host.Node;

/// <summary>
/// Volumes attached on this node while it ran (through the gateway, <c>shoal volume attach</c> or <c>shoal attach</c>),
/// listed in the data directory's <c>volumes.attached</c> so the next start attaches them again and their NBD exports
/// come back for the clients (the attach helper) that wait for them. A detach takes the volume off the list.
/// </summary>
internal static class RememberedAttachments
{
    private const string FileName = "volumes.attached";
    private static readonly object s_gate = new();

    public static void Set(string dataDir, VolumeName volume, bool attached)
    {
        lock (s_gate)
        {
            var names = new SortedSet<string>(Read(dataDir).Select(v => v.Value), StringComparer.Ordinal);
            if (attached ? !names.Add(volume.Value) : !names.Remove(volume.Value))
            {
                return;
            }
            string file = Path.Combine(dataDir, FileName);
            File.WriteAllLines(file + ".tmp", names);
            File.Move(file + ".tmp", file, overwrite: true);
        }
    }

    public static IReadOnlyList<VolumeName> Read(string dataDir)
    {
        string file = Path.Combine(dataDir, FileName);
        lock (s_gate)
        {
            return File.Exists(file)
                ? [.. File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0).Distinct().Select(l => new VolumeName(l))]
                : [];
        }
    }
}
