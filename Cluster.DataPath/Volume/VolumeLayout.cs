using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Shoal.DataPath.Volume;

/// <summary>
/// Where every byte of a volume lives, and at which epoch. Immutable: a layout change is a new
/// layout with a higher epoch. Groups are striped in sets of <see cref="StripeWidth"/>: with width
/// W, unit U and segment size S, volume offset x lies in set x / (W·S); inside the set, stripe unit
/// k = (x mod W·S) / U sits in group set·W + k mod W at segment offset (k / W)·U + x mod U.
/// Width 1 degenerates to concatenation.
/// </summary>
public sealed record VolumeLayout
{
    public const int DefaultStripeUnitBytes = 128 * 1024;

    public required string Name { get; init; }

    public required ulong VolumeId { get; init; }

    public required long SizeBytes { get; init; }

    public required LayoutKind Kind { get; init; }

    public int StripeWidth { get; init; } = 1;

    public int StripeUnitBytes { get; init; } = DefaultStripeUnitBytes;

    public required long SegmentBytes { get; init; }

    /// <summary>Granularity of the targets' write-intent bitmaps (the drives' region size).</summary>
    public int RegionBytes { get; init; } = 1 << 20;

    public required ulong Epoch { get; init; }

    public required ulong WriterId { get; init; }

    /// <summary>Target name → HOST:PORT of its data-path listener.</summary>
    public required ImmutableDictionary<string, string> Targets { get; init; }

    public required ImmutableArray<SegmentGroup> Groups { get; init; }

    public int LegCount => Groups.IsDefaultOrEmpty ? 0 : Groups[0].Legs.Length;

    /// <summary>The problems that make this layout unusable; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 64 || !Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            errors.Add("name must be 1-64 characters of letters, digits, '-', '_' or '.'");
        }
        if (VolumeId == 0)
        {
            errors.Add("volumeId must not be 0");
        }
        if (WriterId == 0)
        {
            errors.Add("writerId must not be 0");
        }
        if (Epoch == 0)
        {
            errors.Add("epoch must be at least 1");
        }
        if (SizeBytes <= 0 || SizeBytes % 4096 != 0)
        {
            errors.Add("sizeBytes must be a positive multiple of 4096");
        }
        if (SegmentBytes <= 0 || SegmentBytes % (1 << 20) != 0)
        {
            errors.Add("segmentBytes must be a positive multiple of 1 MiB");
        }
        if (StripeUnitBytes < 4096 || StripeUnitBytes % 4096 != 0 || (SegmentBytes > 0 && SegmentBytes % StripeUnitBytes != 0))
        {
            errors.Add("stripeUnitBytes must be a multiple of 4096 that divides segmentBytes");
        }
        if (RegionBytes < 4096 || RegionBytes % 4096 != 0 || (SegmentBytes > 0 && SegmentBytes % RegionBytes != 0))
        {
            errors.Add("regionBytes must be a multiple of 4096 that divides segmentBytes");
        }
        (int minWidth, int maxWidth, int minLegs, int maxLegs) = Kind switch
        {
            LayoutKind.Concat => (1, 1, 1, 1),
            LayoutKind.Stripe => (2, 64, 1, 1),
            LayoutKind.Mirror => (1, 1, 2, 3),
            _ => (2, 64, 2, 3),
        };
        if (StripeWidth < minWidth || StripeWidth > maxWidth)
        {
            errors.Add($"{Kind} needs a stripe width of {minWidth}..{maxWidth}, not {StripeWidth}");
        }
        if (Groups.IsDefaultOrEmpty)
        {
            errors.Add("a layout needs at least one segment group");
            return errors;
        }
        if (errors.Count == 0)
        {
            long setBytes = StripeWidth * SegmentBytes;
            long sets = (SizeBytes + setBytes - 1) / setBytes;
            if (Groups.Length != sets * StripeWidth)
            {
                errors.Add($"{SizeBytes} bytes at width {StripeWidth} need {sets * StripeWidth} groups, the layout has {Groups.Length}");
            }
        }
        for (int g = 0; g < Groups.Length; g++)
        {
            ImmutableArray<LegSegment> legs = Groups[g].Legs;
            if (legs.IsDefault || legs.Length < minLegs || legs.Length > maxLegs || legs.Length != LegCount)
            {
                errors.Add($"group {g}: {Kind} needs {minLegs}..{maxLegs} legs, the same in every group");
                continue;
            }
            foreach (LegSegment leg in legs)
            {
                if (Targets == null || !Targets.ContainsKey(leg.Target))
                {
                    errors.Add($"group {g}: unknown target '{leg.Target}'");
                }
            }
            // Distinct drives is the data path's floor; which failure domain legs must not share (node, rack, zone)
            // is placement's policy, and a single-node cluster mirrors across drives of its one target.
            if (legs.Select(l => (l.Target, l.Drive)).Distinct().Count() != legs.Length)
            {
                errors.Add($"group {g}: mirror legs must sit on distinct drives");
            }
        }
        var used = new HashSet<(string, uint, uint)>();
        foreach (LegSegment leg in Groups.SelectMany(g => g.Legs.IsDefault ? [] : g.Legs))
        {
            if (!used.Add((leg.Target, leg.Drive, leg.Segment)))
            {
                errors.Add($"segment {leg.Segment} of drive {leg.Drive} on {leg.Target} is used twice");
            }
        }
        return errors;
    }

    /// <summary>Largest number of chunks <see cref="Map"/> yields for one request of at most <paramref name="maxIoBytes"/>.</summary>
    public int MaxChunks(int maxIoBytes) => StripeWidth == 1 ? (int)(maxIoBytes / SegmentBytes) + 2 : (maxIoBytes / StripeUnitBytes) + 2;

    /// <summary>Splits [offset, offset+length) into pieces that each lie in one group's segment; returns how many.</summary>
    public int Map(long offsetBytes, int lengthBytes, Span<Chunk> chunks)
    {
        int count = 0;
        long setBytes = StripeWidth * SegmentBytes;
        int done = 0;
        while (done < lengthBytes)
        {
            long pos = offsetBytes + done;
            long set = pos / setBytes;
            long inSet = pos % setBytes;
            int group;
            long segmentOffset;
            long room;
            if (StripeWidth == 1)
            {
                group = (int)set;
                segmentOffset = inSet;
                room = SegmentBytes - inSet;
            }
            else
            {
                long unit = inSet / StripeUnitBytes;
                long within = inSet % StripeUnitBytes;
                group = (int)((set * StripeWidth) + (unit % StripeWidth));
                segmentOffset = ((unit / StripeWidth) * StripeUnitBytes) + within;
                room = StripeUnitBytes - within;
            }
            int length = (int)Math.Min(room, lengthBytes - done);
            chunks[count++] = new Chunk(group, segmentOffset, done, length);
            done += length;
        }
        return count;
    }

    public VolumeLayout WithLegState(int group, int leg, LegState state, ulong epoch)
    {
        SegmentGroup g = Groups[group];
        return this with
        {
            Epoch = epoch,
            Groups = Groups.SetItem(group, g with { Legs = g.Legs.SetItem(leg, g.Legs[leg] with { State = state }) }),
        };
    }

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Parses and validates a layout; throws <see cref="FormatException"/> with every problem found.</summary>
    public static VolumeLayout FromJson(string json)
    {
        VolumeLayout? layout;
        try
        {
            layout = JsonSerializer.Deserialize<VolumeLayout>(json, s_json);
        }
        catch (JsonException e)
        {
            throw new FormatException($"layout is not valid JSON for a volume layout: {e.Message}", e);
        }
        if (layout == null)
        {
            throw new FormatException("layout is empty");
        }
        IReadOnlyList<string> errors = layout.Validate();
        if (errors.Count > 0)
        {
            throw new FormatException("invalid layout: " + string.Join("; ", errors));
        }
        return layout;
    }

    public static VolumeLayout Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>Writes the layout atomically (temporary file, fsync, rename).</summary>
    public void Save(string path)
    {
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
        using (var w = new StreamWriter(fs))
        {
            w.Write(ToJson());
            w.Flush();
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
    }
}
