using System.Text.Json;

namespace Shoal.Host.Attach;

/// <summary>
/// This host's block-device attachments, one directory each under the run directory (<c>/run/shoal/attach/VOLUME</c>
/// by default, or <c>--run-dir</c> / <c>$SHOAL_RUN_DIR</c>): <c>attachment.json</c>, the helper's FUSE mount point
/// <c>mnt/</c> and its log <c>helper.log</c>. /run is a tmpfs: after a reboot nothing is attached, and nothing is listed.
/// </summary>
internal static class LocalAttachments
{
    public const string RecordFile = "attachment.json";

    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    public static string DefaultRunDir => Environment.GetEnvironmentVariable("SHOAL_RUN_DIR") is { Length: > 0 } dir ? dir : "/run/shoal";

    public static string DirectoryOf(string runDir, string volume) => Path.Combine(Path.GetFullPath(runDir), "attach", volume);

    public static void Save(string runDir, LocalAttachment attachment)
    {
        string file = Path.Combine(DirectoryOf(runDir, attachment.Volume), RecordFile);
        System.IO.File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(attachment, s_json));
        System.IO.File.Move(file + ".tmp", file, overwrite: true);
    }

    public static IReadOnlyList<LocalAttachment> List(string runDir)
    {
        string root = Path.Combine(Path.GetFullPath(runDir), "attach");
        if (!Directory.Exists(root))
        {
            return [];
        }
        var found = new List<LocalAttachment>();
        foreach (string dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string file = Path.Combine(dir, RecordFile);
            if (System.IO.File.Exists(file) && JsonSerializer.Deserialize<LocalAttachment>(System.IO.File.ReadAllText(file), s_json) is { } a)
            {
                found.Add(a);
            }
        }
        return found;
    }

    /// <summary>By volume name or by device path.</summary>
    public static LocalAttachment? Find(string runDir, string volumeOrDevice) =>
        List(runDir).FirstOrDefault(a => a.Volume == volumeOrDevice || a.Device == volumeOrDevice);

    public static void Remove(string runDir, string volume)
    {
        string dir = DirectoryOf(runDir, volume);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
