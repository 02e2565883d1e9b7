using System.Globalization;
using System.Security.Cryptography;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Agents;

/// <summary>
/// A node's writer id per volume, kept in its data directory: a restarted node attaches again as the same writer
/// (no force needed, and the targets' fences still name it), while another node is a different writer.
/// </summary>
public static class WriterIds
{
    public static WriterId For(string dataDir, VolumeName volume)
    {
        string dir = Path.Combine(dataDir, "writers");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, volume.Value + ".id");
        if (File.Exists(path) && ulong.TryParse(File.ReadAllText(path).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong existing) && existing != 0)
        {
            return new WriterId(existing);
        }
        ulong value;
        do
        {
            value = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        }
        while (value == 0);
        string temp = path + ".tmp";
        File.WriteAllText(temp, value.ToString("x16", CultureInfo.InvariantCulture));
        File.Move(temp, path, overwrite: true);
        return new WriterId(value);
    }
}
