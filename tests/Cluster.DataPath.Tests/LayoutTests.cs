using System.Collections.Immutable;
using Shoal.DataPath.Volume;
using Xunit.Abstractions;

namespace Shoal.DataPath.Tests;

public sealed class LayoutTests(ITestOutputHelper output)
{
    private const long Segment = 1 << 20;

    internal static VolumeLayout Make(LayoutKind kind, int width, int legs, long sizeBytes, int unit = 64 * 1024, long segmentBytes = Segment)
    {
        long setBytes = width * segmentBytes;
        int groups = (int)((sizeBytes + setBytes - 1) / setBytes) * width;
        int targets = Math.Max(legs, 3);
        var builder = ImmutableArray.CreateBuilder<SegmentGroup>();
        for (int g = 0; g < groups; g++)
        {
            builder.Add(new SegmentGroup([.. Enumerable.Range(0, legs).Select(l => new LegSegment($"t{(g + l) % targets}", 0, (uint)g, LegState.InSync))]));
        }
        return new VolumeLayout
        {
            Name = "v",
            VolumeId = 1,
            SizeBytes = sizeBytes,
            Kind = kind,
            StripeWidth = width,
            StripeUnitBytes = unit,
            SegmentBytes = segmentBytes,
            Epoch = 1,
            WriterId = 1,
            Targets = Enumerable.Range(0, targets).ToImmutableDictionary(i => $"t{i}", i => $"127.0.0.1:{7000 + i}"),
            Groups = builder.ToImmutable(),
        };
    }

    /// <summary>Independent construction: walk the volume unit by unit, row by row, column by column.</summary>
    private static (int Group, long Offset)[] ReferenceMap(VolumeLayout layout)
    {
        int unit = layout.StripeWidth == 1 ? 4096 : layout.StripeUnitBytes;
        var map = new (int, long)[layout.Groups.Length * layout.SegmentBytes / 4096];
        long pos = 0;
        for (int set = 0; set < layout.Groups.Length / layout.StripeWidth; set++)
        {
            for (long row = 0; row < layout.SegmentBytes / unit; row++)
            {
                for (int col = 0; col < layout.StripeWidth; col++)
                {
                    for (int b = 0; b < unit / 4096; b++)
                    {
                        map[pos / 4096] = ((set * layout.StripeWidth) + col, (row * unit) + (b * 4096));
                        pos += 4096;
                    }
                }
            }
        }
        return map;
    }

    [Theory]
    [InlineData(LayoutKind.Concat, 1, 1)]
    [InlineData(LayoutKind.Stripe, 3, 1)]
    [InlineData(LayoutKind.Mirror, 1, 2)]
    [InlineData(LayoutKind.StripeMirror, 2, 3)]
    public void Map_agrees_with_an_independent_walk_for_random_requests(LayoutKind kind, int width, int legs)
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        VolumeLayout layout = Make(kind, width, legs, 4 * width * Segment);
        Assert.Empty(layout.Validate());
        (int Group, long Offset)[] reference = ReferenceMap(layout);
        Span<Chunk> chunks = stackalloc Chunk[layout.MaxChunks(1 << 20)];
        for (int i = 0; i < 2000; i++)
        {
            int length = random.Next(1, 1 << 20);
            long offset = random.NextInt64(0, layout.SizeBytes - length);
            int n = layout.Map(offset, length, chunks);
            int covered = 0;
            for (int c = 0; c < n; c++)
            {
                Chunk chunk = chunks[c];
                Assert.Equal(covered, chunk.BufferOffsetBytes);
                Assert.True(chunk.SegmentOffsetBytes + chunk.LengthBytes <= layout.SegmentBytes);
                // every byte of the chunk maps where the reference says
                foreach (long probe in new[] { 0L, chunk.LengthBytes - 1L })
                {
                    long volumeByte = offset + chunk.BufferOffsetBytes + probe;
                    (int g, long o) = reference[volumeByte / 4096];
                    Assert.Equal(g, chunk.Group);
                    Assert.Equal(o + (volumeByte % 4096), chunk.SegmentOffsetBytes + probe);
                }
                covered += chunk.LengthBytes;
            }
            Assert.Equal(length, covered);
        }
    }

    [Fact]
    public void Validate_names_every_problem()
    {
        VolumeLayout good = Make(LayoutKind.Mirror, 1, 2, 2 * Segment);
        Assert.Empty(good.Validate());

        VolumeLayout sameDrive = good with { Groups = good.Groups.SetItem(0, new SegmentGroup([new LegSegment("t0", 0, 9, LegState.InSync), new LegSegment("t0", 0, 10, LegState.InSync)])) };
        Assert.Contains(sameDrive.Validate(), e => e.Contains("distinct drives", StringComparison.Ordinal));
        VolumeLayout sameTargetTwoDrives = good with { Groups = good.Groups.SetItem(0, new SegmentGroup([new LegSegment("t0", 0, 9, LegState.InSync), new LegSegment("t0", 1, 10, LegState.InSync)])) };
        Assert.DoesNotContain(sameTargetTwoDrives.Validate(), e => e.Contains("distinct", StringComparison.Ordinal));

        Assert.Contains((good with { Kind = LayoutKind.Concat }).Validate(), e => e.Contains("legs", StringComparison.Ordinal));
        Assert.Contains((good with { SizeBytes = 4097 }).Validate(), e => e.Contains("sizeBytes", StringComparison.Ordinal));
        Assert.Contains((good with { SizeBytes = 5 * Segment }).Validate(), e => e.Contains("groups", StringComparison.Ordinal));
        Assert.Contains((good with { Epoch = 0 }).Validate(), e => e.Contains("epoch", StringComparison.Ordinal));
        Assert.Contains((good with { Kind = LayoutKind.Stripe }).Validate(), e => e.Contains("stripe width", StringComparison.Ordinal));
        Assert.Contains((good with { Targets = ImmutableDictionary<string, string>.Empty }).Validate(), e => e.Contains("unknown target", StringComparison.Ordinal));
        Assert.Contains((good with { Name = "bad name!" }).Validate(), e => e.Contains("name", StringComparison.Ordinal));
        Assert.Contains((good with { StripeUnitBytes = 1000 }).Validate(), e => e.Contains("stripeUnitBytes", StringComparison.Ordinal));
    }

    [Fact]
    public void Json_round_trips_and_rejects_bad_documents()
    {
        VolumeLayout layout = Make(LayoutKind.StripeMirror, 2, 2, 4 * Segment);
        VolumeLayout back = VolumeLayout.FromJson(layout.ToJson());
        Assert.Equal(layout.ToJson(), back.ToJson());
        Assert.Equal(LayoutKind.StripeMirror, back.Kind);

        Assert.Throws<FormatException>(() => VolumeLayout.FromJson("{ not json"));
        Assert.Throws<FormatException>(() => VolumeLayout.FromJson(layout.ToJson().Replace("\"epoch\"", "\"epoch\": 3, \"bogus\"", StringComparison.Ordinal)));
        FormatException invalid = Assert.Throws<FormatException>(() => VolumeLayout.FromJson(layout.ToJson().Replace("\"writerId\": 1", "\"writerId\": 0", StringComparison.Ordinal)));
        Assert.Contains("writerId", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Leg_state_change_keeps_positions_and_raises_the_epoch()
    {
        VolumeLayout layout = Make(LayoutKind.Mirror, 1, 2, 2 * Segment);
        VolumeLayout next = layout.WithLegState(1, 0, LegState.Stale, 2);
        Assert.Equal(2UL, next.Epoch);
        Assert.Equal(LegState.Stale, next.Groups[1].Legs[0].State);
        Assert.Equal(LegState.InSync, layout.Groups[1].Legs[0].State);
        Assert.Equal(1, next.Groups[1].InSyncCount);
    }
}
