using System.Buffers.Binary;
using System.Text.Json;
using Xunit.Abstractions;

namespace Shoal.Integration.Tests;

/// <summary>
/// Checksums at rest on the embedded default, as an operator meets them: fio writes <c>demo</c>; with the node stopped,
/// bytes of one leg's segment are flipped in its drive image; started again, <c>shoal volume scrub demo --wait</c>
/// finds and repairs every bad block, fio's verify pass is clean, the legs are byte-identical and /metrics counts it.
/// </summary>
public sealed class ChecksumScrubTests(ITestOutputHelper output)
{
    private const int WrittenBytes = 16 << 20;

    [Fact]
    public async Task Bytes_flipped_in_a_leg_while_the_node_is_down_are_found_and_repaired_by_scrub()
    {
        Tool.Require("fio");
        using var node = new EmbeddedNode();
        try
        {
            string[] write = [.. Tool.FioVerify(node.DemoUri, "write", "16m", "64k", 4, name: "crc"), "--verify_state_save=0"];
            (int code, string text) = Tool.Run("fio", write, TimeSpan.FromMinutes(3));
            Assert.True(code == 0, "fio write failed:\n" + text);
            (string Path, long Offset)[] legs = await Legs(node);
            Assert.Equal(2, legs.Length);

            node.Stop();
            long[] flips = [(1 << 20) + 100, (5 << 20) + 4000, (9 << 20) + 4096 + 9];
            using (var image = new FileStream(legs[0].Path, FileMode.Open, FileAccess.ReadWrite))
            {
                foreach (long at in flips)
                {
                    byte[] one = new byte[1];
                    image.Position = legs[0].Offset + at;
                    image.ReadExactly(one);
                    one[0] ^= 0xA5;
                    image.Position = legs[0].Offset + at;
                    image.Write(one);
                }
            }
            Assert.False(LegBytes(legs[0]).AsSpan().SequenceEqual(LegBytes(legs[1])));
            node.Start();

            (code, text) = node.Cli("volume", "scrub", "demo", "--wait");
            output.WriteLine(text);
            Assert.True(code == 0, text);
            Assert.Contains($"bad {flips.Length}, repaired {flips.Length}, unrepairable 0", text, StringComparison.Ordinal);

            string[] verify = [.. Tool.FioVerify(node.DemoUri, "write", "16m", "64k", 4, name: "crc"), "--verify_only", "--verify_state_load=0"];
            (code, text) = Tool.Run("fio", verify, TimeSpan.FromMinutes(3));
            Assert.True(code == 0, "after the scrub fio's verify pass fails:\n" + text);
            Assert.True(LegBytes(legs[0]).AsSpan().SequenceEqual(LegBytes(legs[1])), "the legs differ after the scrub");

            using HttpClient http = node.Http(node.AdminToken);
            Dictionary<string, double> samples = Prometheus.Parse(await http.GetStringAsync(node.Base + "/metrics"));
            Assert.Equal(flips.Length, samples.Single(s => s.Key.StartsWith("shoal_volume_blocks_repaired_total{volume=\"demo\"", StringComparison.Ordinal)).Value);
            Assert.Equal(0, samples.Single(s => s.Key.StartsWith("shoal_volume_unrepairable_blocks_total{volume=\"demo\"", StringComparison.Ordinal)).Value);
            Assert.True(samples.Where(s => s.Key.StartsWith("shoal_drive_checksum_failures_total", StringComparison.Ordinal)).Sum(s => s.Value) >= 1);
            Assert.All(samples.Where(s => s.Key.StartsWith("shoal_drive_checksums{", StringComparison.Ordinal)), s => Assert.Equal(1, s.Value));

            (code, text) = node.Cli("volume", "show", "demo");
            Assert.True(code == 0, text);
            Assert.Contains($"{flips.Length} block(s) repaired", text, StringComparison.Ordinal);

            // Only the engine of the node a volume is attached on can read every leg: a detached volume is refused.
            (code, text) = node.Cli("volume", "create", "cold", "--layout", "mirror", "--size", "64MiB");
            Assert.True(code == 0, text);
            (code, text) = node.Cli("volume", "scrub", "cold");
            Assert.True(code == 1 && text.Contains("attach it first", StringComparison.Ordinal), text);
        }
        catch
        {
            output.WriteLine(node.Logs());
            throw;
        }
    }

    /// <summary>Each leg of demo's first group: its drive image and the file offset of its segment (from the superblock).</summary>
    private static async Task<(string Path, long Offset)[]> Legs(EmbeddedNode node)
    {
        using HttpClient http = node.Http(node.AdminToken);
        using JsonDocument volume = JsonDocument.Parse(await http.GetStringAsync("volumes/demo"));
        using JsonDocument drives = JsonDocument.Parse(await http.GetStringAsync("drives"));
        return [.. volume.RootElement.GetProperty("groups")[0].GetProperty("legs").EnumerateArray().Select(leg =>
        {
            string drive = leg.GetProperty("drive").GetString()!;
            string path = drives.RootElement.EnumerateArray().Single(d => d.GetProperty("id").GetString() == drive).GetProperty("path").GetString()!;
            byte[] super = new byte[4096];
            using (var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                f.ReadExactly(super);
            }
            Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(super.AsSpan(8))); // format 2: block checksums
            long segmentBytes = BinaryPrimitives.ReadInt64LittleEndian(super.AsSpan(48));
            long dataOffset = BinaryPrimitives.ReadInt64LittleEndian(super.AsSpan(72));
            return (path, dataOffset + (leg.GetProperty("segment").GetUInt32() * segmentBytes));
        })];
    }

    private static byte[] LegBytes((string Path, long Offset) leg)
    {
        using var f = new FileStream(leg.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        byte[] bytes = new byte[WrittenBytes];
        f.Position = leg.Offset;
        f.ReadExactly(bytes);
        return bytes;
    }
}
