using Shoal.DataPath.Volume;

namespace Shoal.DataPath.Tests;

/// <summary>Synchronous reads and writes through a volume engine, and file-level pokes at a drive, for tests.</summary>
internal static unsafe class EngineIo
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    public static int Write(VolumeEngine engine, long offset, ReadOnlySpan<byte> data) => Run(engine, IoKind.Write, offset, data.Length, data, null);

    public static (int Errno, byte[] Data) Read(VolumeEngine engine, long offset, int length)
    {
        byte[] data = new byte[length];
        int errno = Run(engine, IoKind.Read, offset, length, default, data);
        return (errno, data);
    }

    private static int Run(VolumeEngine engine, IoKind kind, long offset, int length, ReadOnlySpan<byte> source, byte[]? destination)
    {
        IoRequest io = engine.Rent();
        try
        {
            new Span<byte>(io.Buffer, length).Fill(0xEE);
            source.CopyTo(new Span<byte>(io.Buffer, length));
            io.Kind = kind;
            io.OffsetBytes = offset;
            io.LengthBytes = length;
            var done = new Completion();
            io.Owner = done;
            engine.Submit(io);
            Assert.True(done.Done.Wait(s_timeout), $"a {kind} did not complete");
            if (done.Errno == 0 && destination != null)
            {
                new Span<byte>(io.Buffer, length).CopyTo(destination);
            }
            return done.Errno;
        }
        finally
        {
            engine.Return(io);
        }
    }

    /// <summary>XORs a byte of a drive file behind its store's back, as bit rot would.</summary>
    public static void Flip(string path, long fileOffset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        byte[] one = new byte[1];
        file.Position = fileOffset;
        file.ReadExactly(one);
        one[0] ^= 0x5A;
        file.Position = fileOffset;
        file.Write(one);
    }

    public static byte[] ReadFile(string path, long fileOffset, int length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] bytes = new byte[length];
        file.Position = fileOffset;
        file.ReadExactly(bytes);
        return bytes;
    }

    public static void WaitUntil(Func<bool> condition, string what)
    {
        long deadline = Environment.TickCount64 + (long)s_timeout.TotalMilliseconds;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, $"waited {s_timeout.TotalSeconds:0} s for {what}");
            Thread.Sleep(20);
        }
    }

    private sealed class Completion : IIoCompletion
    {
        public ManualResetEventSlim Done { get; } = new();

        public int Errno { get; private set; }

        public void OnIoComplete(IoRequest io, int errno)
        {
            Errno = errno;
            Done.Set();
        }
    }
}
