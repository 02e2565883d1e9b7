using System.Security.Cryptography;
using System.Text;

namespace Shoal.DataPath.Wire;

/// <summary>The shared secret every process of a cluster holds; proves membership in the wire handshake.</summary>
public sealed class ClusterKey
{
    public const int MinBytes = 16;

    private readonly byte[] _key;

    public ClusterKey(byte[] key)
    {
        if (key.Length < MinBytes)
        {
            throw new ArgumentException($"a cluster key needs at least {MinBytes} bytes", nameof(key));
        }
        _key = (byte[])key.Clone();
        byte[] digest = SHA256.HashData([.. Encoding.ASCII.GetBytes("shoal-cluster-id:"), .. _key]);
        ClusterId = new Guid(digest.AsSpan(0, 16));
    }

    /// <summary>Stamped in every drive's superblock: a drive of another cluster is recognised as such.</summary>
    public Guid ClusterId { get; }

    public static ClusterKey Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"cluster key file {path} does not exist");
        }
        byte[] bytes = Encoding.UTF8.GetBytes(File.ReadAllText(path).Trim());
        if (bytes.Length < MinBytes)
        {
            throw new ArgumentException($"cluster key file {path} holds fewer than {MinBytes} bytes");
        }
        return new ClusterKey(bytes);
    }

    /// <summary>Creates a random key file (hex) when there is none; returns the key.</summary>
    public static ClusterKey LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir != null)
            {
                Directory.CreateDirectory(dir);
            }
            File.WriteAllText(path, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)) + "\n");
        }
        return Load(path);
    }

    internal byte[] Prove(string role, ReadOnlySpan<byte> clientNonce, ReadOnlySpan<byte> serverNonce)
    {
        byte[] message = [.. Encoding.ASCII.GetBytes(role), .. clientNonce, .. serverNonce];
        return HMACSHA256.HashData(_key, message);
    }
}
