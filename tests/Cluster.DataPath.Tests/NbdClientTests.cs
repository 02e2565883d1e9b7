using System.Security.Cryptography;
using Shoal.DataPath.Nbd;

namespace Shoal.DataPath.Tests;

/// <summary>
/// The reconnecting NBD client (the attach helper's) against the in-process NBD server: reads, writes and flushes
/// larger than one request; a request made while the export is gone waits and completes once it is back; one that
/// waits past the I/O timeout gets EIO and is not sent again.
/// </summary>
public sealed class NbdClientTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly InProcessVolume _volume = new();

    public void Dispose() => _volume.Dispose();

    private NbdClient Connect(TimeSpan ioTimeout) => NbdClient.Connect($"nbd://{_volume.NbdEndPoint}/vol", ioTimeout, _ => { });

    [Fact]
    public void Reads_writes_and_flushes_split_into_requests()
    {
        using NbdClient client = Connect(TimeSpan.FromSeconds(30));
        Assert.Equal(_volume.Layout.SizeBytes, client.SizeBytes);
        Assert.Equal(1 << 20, client.MaxBlockBytes);
        byte[] data = RandomNumberGenerator.GetBytes((3 << 20) + 4096);
        Assert.Equal(0, client.Write(4096, data));
        Assert.Equal(0, client.Flush());
        byte[] back = new byte[data.Length];
        Assert.Equal(0, client.Read(4096, back));
        Assert.Equal(data, back);
        Assert.Equal(NbdProtocol.ENOSPC, client.Write(_volume.Layout.SizeBytes, new byte[4096])); // the server's errno, passed on
    }

    [Fact]
    public void A_write_made_while_the_export_is_gone_completes_when_it_returns()
    {
        using NbdClient client = Connect(TimeSpan.FromSeconds(30));
        Assert.True(_volume.Nbd.RemoveExport("vol"));
        WaitUntil(() => !client.Connected);
        byte[] data = RandomNumberGenerator.GetBytes(1 << 20);
        Task<int> write = Task.Run(() => client.Write(1 << 20, data));
        Task<int> flush = write.ContinueWith(_ => client.Flush(), TaskScheduler.Default);
        Assert.False(write.IsCompleted, "a write cannot complete while the export is gone");
        Assert.True(_volume.Nbd.AddExport(new NbdExport("vol", _volume.Engine)));
        Assert.True(flush.Wait(s_deadline));
        Assert.Equal(0, write.Result);
        Assert.Equal(0, flush.Result);
        Assert.Equal(1, client.Reconnects);
        byte[] back = new byte[data.Length];
        Assert.Equal(0, client.Read(1 << 20, back));
        Assert.Equal(data, back);
    }

    [Fact]
    public void A_request_waiting_past_the_io_timeout_fails_with_EIO_and_is_not_sent_again()
    {
        using NbdClient client = Connect(TimeSpan.FromSeconds(1));
        Assert.Equal(0, client.Write(0, new byte[4096]));
        Assert.True(_volume.Nbd.RemoveExport("vol"));
        WaitUntil(() => !client.Connected);
        Assert.Equal(NbdProtocol.EIO, client.Write(0, RandomNumberGenerator.GetBytes(4096)));
        Assert.True(_volume.Nbd.AddExport(new NbdExport("vol", _volume.Engine)));
        WaitUntil(() => client.Connected);
        byte[] back = new byte[4096];
        Assert.Equal(0, client.Read(0, back));
        Assert.Equal(new byte[4096], back);
    }

    [Fact]
    public void Unknown_exports_and_bad_uris_are_errors_at_connect()
    {
        Assert.Throws<NbdProtocolException>(() => NbdClient.Connect($"nbd://{_volume.NbdEndPoint}/nope", TimeSpan.FromSeconds(5), _ => { }));
        Assert.Throws<ArgumentException>(() => NbdClient.Connect("http://example/vol", TimeSpan.FromSeconds(5), _ => { }));
        Assert.Throws<ArgumentException>(() => NbdClient.ParseUri("nbd+unix:///vol"));
        Assert.Equal("vol", NbdClient.ParseUri("nbd+unix:///vol?socket=/run/x.sock").Export);
    }

    private static void WaitUntil(Func<bool> condition)
    {
        long deadline = Environment.TickCount64 + (long)s_deadline.TotalMilliseconds;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 < deadline, "condition not reached in time");
            Thread.Sleep(10);
        }
    }
}
