using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Shoal.Integration.Tests;

/// <summary>
/// An application on a mounted file system: writes files of seeded random data one after another, each fsynced and
/// closed before it counts as <see cref="Synced"/> (name and SHA-256), up to <c>maxFiles</c> (then it idles, so it
/// never fills the file system). The first exception stops it and is kept.
/// </summary>
internal sealed class SyncedWriter(string directory, int seed, int fileBytes, int maxFiles)
{
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public ConcurrentQueue<(string Name, string Sha256)> Synced { get; } = new();

    public Exception? Error { get; private set; }

    public void Start()
    {
        _thread = new Thread(Run) { Name = "synced-writer", IsBackground = true };
        _thread.Start();
    }

    public void Stop()
    {
        _stop.Cancel();
        _thread?.Join();
    }

    private void Run()
    {
        try
        {
            byte[] data = new byte[fileBytes];
            for (int i = 0; i < maxFiles && !_stop.IsCancellationRequested; i++)
            {
                new Random(seed + i).NextBytes(data);
                string name = $"file-{i:D4}.bin";
                using (var f = new FileStream(Path.Combine(directory, name), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    for (int at = 0; at < data.Length; at += 1 << 20)
                    {
                        f.Write(data, at, Math.Min(1 << 20, data.Length - at));
                    }
                    f.Flush(flushToDisk: true);
                }
                Synced.Enqueue((name, Convert.ToHexString(SHA256.HashData(data))));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error = e;
        }
    }
}
