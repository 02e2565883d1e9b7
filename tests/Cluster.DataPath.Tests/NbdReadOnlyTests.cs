namespace Shoal.DataPath.Tests;

public sealed class NbdReadOnlyTests : IDisposable
{
    private readonly InProcessVolume _volume = new(readOnly: true);

    public void Dispose() => _volume.Dispose();

    [Fact]
    public void A_read_only_export_refuses_every_write_with_eperm()
    {
        using var c = new RawNbdClient(_volume.NbdEndPoint);
        (_, ushort flags) = c.Go("vol");
        Assert.Equal(2, flags & 2); // READ_ONLY
        Assert.Equal(0, flags & (32 | 64)); // no TRIM / WRITE_ZEROES offered
        byte[] data = new byte[4096];
        Array.Fill(data, (byte)0x77);
        c.Request(1, 1, 0, 4096, data);
        Assert.Equal((1u, 1UL), c.Reply());
        c.Request(6, 2, 0, 4096);
        Assert.Equal((1u, 2UL), c.Reply());
        c.Request(0, 3, 0, 4096);
        Assert.Equal((0u, 3UL), c.Reply());
        Assert.All(c.Receive(4096), b => Assert.Equal(0, b));
    }
}
