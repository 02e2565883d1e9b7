using System.Security.Cryptography;
using System.Text.Json;

namespace Shoal.Integration.Tests;

/// <summary>Real userspace NBD clients (libnbd's nbdcopy and nbdinfo) against a mirrored volume.</summary>
public sealed class NbdClientTests
{
    [Fact]
    public void Nbdcopy_round_trips_a_random_256_MiB_image_over_tcp_and_unix_socket_and_nbdinfo_reports_size_and_flags()
    {
        using var cluster = StaticCluster.Mirror2("nbdcopy", "256MiB");

        (int code, string output) = Tool.Run("nbdinfo", ["--json", cluster.NbdUri], TimeSpan.FromSeconds(30));
        Assert.True(code == 0, output);
        using (JsonDocument info = JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]))
        {
            JsonElement export = info.RootElement.GetProperty("exports")[0];
            Assert.Equal(256L << 20, export.GetProperty("export-size").GetInt64());
            Assert.False(export.GetProperty("is_read_only").GetBoolean());
            foreach (string flag in new[] { "can_flush", "can_fua", "can_trim", "can_zero", "can_multi_conn" })
            {
                Assert.True(export.GetProperty(flag).GetBoolean(), flag);
            }
            Assert.Equal(1L << 20, export.GetProperty("block_size_maximum").GetInt64());
        }

        string image = Path.Combine(cluster.Root, "in.bin");
        string back = Path.Combine(cluster.Root, "out.bin");
        using (FileStream fs = File.Create(image))
        {
            byte[] chunk = new byte[1 << 20];
            for (int i = 0; i < 256; i++)
            {
                RandomNumberGenerator.Fill(chunk);
                fs.Write(chunk);
            }
        }
        (code, output) = Tool.Run("nbdcopy", [image, cluster.NbdUri], TimeSpan.FromMinutes(3));
        Assert.True(code == 0, output);
        // read back through the Unix socket export
        (code, output) = Tool.Run("nbdcopy", [$"nbd+unix:///vol?socket={cluster.NbdSocket}", back], TimeSpan.FromMinutes(3));
        Assert.True(code == 0, output);
        Assert.Equal(StaticCluster.FileHash(image), StaticCluster.FileHash(back));
    }
}
