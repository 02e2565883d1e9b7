namespace Shoal.Integration.Tests;

/// <summary>fio's nbd engine writes random blocks with CRC32C headers and reads them back, on every layout, legs in separate target processes.</summary>
public sealed class FioVerifyTests
{
    [Theory]
    [InlineData("concat", 2, 1, 0)]
    [InlineData("stripe", 3, 1, 3)]
    [InlineData("mirror", 2, 2, 0)]
    [InlineData("stripe+mirror", 3, 2, 2)]
    public void Random_writes_verify_on_every_layout(string kind, int targets, int legs, int width)
    {
        using var cluster = new StaticCluster(kind.Replace('+', '-'));
        for (int t = 1; t <= targets; t++)
        {
            cluster.StartTarget($"t{t}");
        }
        cluster.WriteLayout(kind, "256MiB", legs, width);
        cluster.StartClient();

        (int code, string output) = Tool.Run("fio", [.. Tool.FioVerify(cluster.NbdUri, "randwrite", "256m", "4k", 16), "--bsrange=4k-256k"], TimeSpan.FromMinutes(4));
        Assert.True(code == 0, $"fio verify failed on {kind}:\n{output}");
        Assert.DoesNotContain("verify: bad", output, StringComparison.Ordinal);
        Assert.Equal(0, cluster.ClientCounters().GetProperty("errors").GetInt64());

        if (legs > 1)
        {
            // mirror legs hold the same bytes
            foreach (var group in cluster.Layout.Groups)
            {
                Assert.Equal(cluster.SegmentBytes(group.Legs[0].Target, group.Legs[0].Segment), cluster.SegmentBytes(group.Legs[1].Target, group.Legs[1].Segment));
            }
        }
    }
}
