using System.Collections.Immutable;
using System.Text.Json;
using Shoal.Actors.Placement;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;

namespace Shoal.Management.Api;

/// <summary>Entity views to API documents, and the API's names for layouts, spreads and states.</summary>
public static class ApiMapping
{
    public static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    public static string LayoutName(LayoutKind kind) => kind switch
    {
        LayoutKind.Concat => "concat",
        LayoutKind.Stripe => "stripe",
        LayoutKind.Mirror => "mirror",
        LayoutKind.StripeMirror => "stripe-mirror",
        _ => kind.ToString(),
    };

    public static LayoutKind? ParseLayout(string? text) => text switch
    {
        "concat" => LayoutKind.Concat,
        "stripe" => LayoutKind.Stripe,
        "mirror" => LayoutKind.Mirror,
        "stripe-mirror" or "stripeMirror" => LayoutKind.StripeMirror,
        _ => null,
    };

    public static FailureDomainLevel? ParseSpread(string? text) => text switch
    {
        "drive" => FailureDomainLevel.Drive,
        "node" => FailureDomainLevel.Node,
        "rack" => FailureDomainLevel.Rack,
        "zone" => FailureDomainLevel.Zone,
        _ => null,
    };

    /// <summary>healthy, rebuilding (some leg catching up), degraded (some leg stale) or unavailable (a group with no in-sync leg).</summary>
    public static string Health(VolumeView view)
    {
        if (view.Groups.Any(g => g.InSyncCount == 0))
        {
            return "unavailable";
        }
        if (view.Groups.Any(g => g.Legs.Any(l => l.State == LegState.Stale)))
        {
            return "degraded";
        }
        return view.Groups.Any(g => g.Legs.Any(l => l.State == LegState.Rebuilding)) ? "rebuilding" : "healthy";
    }

    public static VolumeDto Volume(VolumeView view)
    {
        VolumeSpec spec = view.Spec!;
        ImmutableArray<GroupDto> groups = [.. view.Groups.Select((g, gi) => new GroupDto(gi, [.. g.Legs.Select((l, li) =>
            new LegDto(li, l.Target.Value, l.Segment.Drive.ToString(), l.Segment.Segment, Name(l.State), l.Rebuild is { } r ? Rebuild(r) : null))]))];
        RebuildProgress[] rebuilding = [.. view.Groups.SelectMany(g => g.Legs).Where(l => l.State == LegState.Rebuilding && l.Rebuild != null).Select(l => l.Rebuild!)];
        RebuildDto? total = null;
        if (rebuilding.Length > 0)
        {
            long done = rebuilding.Sum(r => r.DoneBytes);
            long all = rebuilding.Sum(r => r.TotalBytes);
            double rate = rebuilding.Sum(r => r.BytesPerSecond);
            total = new RebuildDto(rebuilding.Any(r => r.Kind == RebuildKind.Full) ? "full" : "delta", done, all, all == 0 ? 100 : 100.0 * done / all, rate,
                rate > 0 ? (all - done) / rate : null);
        }
        return new VolumeDto(view.Volume.Value, view.Uid.ToString(), Name(view.Status), Health(view), LayoutName(spec.Kind), spec.SizeBytes, spec.Legs,
            spec.StripeWidth, spec.StripeUnitBytes, spec.DriveClass, Name(spec.Spread), view.SegmentBytes, view.Epoch,
            [.. view.Attachments.Select(a => new AttachmentDto(a.Client.Value, a.Writer.ToString(), Name(a.Mode), a.Since))], groups, total);
    }

    public static RebuildDto Rebuild(RebuildProgress r) =>
        new(Name(r.Kind), r.DoneBytes, r.TotalBytes, r.Percent, r.BytesPerSecond, r.Eta?.TotalSeconds);

    public static DriveDto Drive(DriveView v)
    {
        DriveInventory? inv = v.Inventory;
        return new DriveDto(v.Drive.ToString(), inv?.Node.Value ?? "", inv?.Path ?? "", Name(v.Status), v.StatusSince, inv?.CapacityBytes ?? 0,
            inv?.SegmentBytes ?? 0, inv?.SegmentCount ?? 0, v.FreeSegments, v.Allocated.Length, v.Releasing.Length, inv?.DriveClass ?? "",
            inv?.Domain.Rack ?? "", inv?.Domain.Zone ?? "", v.ErrorCount, v.LastError, v.Draining, v.MaintenanceSince, inv?.Checksums ?? false);
    }

    public static ScrubDto Scrub(LocalScrub s)
    {
        VolumeIntegrity i = s.Integrity;
        return new ScrubDto(s.Volume.Value, s.Node.Value, s.Started, i.ScrubState, i.ScrubRuns, i.ScrubScannedBlocks, i.ScrubTotalBlocks,
            i.ScrubBadBlocks, i.ScrubRepairedBlocks, i.ScrubUnrepairableBlocks,
            i.ScrubStartedUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(i.ScrubStartedUnixMs) : null,
            i.ScrubFinishedUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(i.ScrubFinishedUnixMs) : null,
            i.CorruptReadsServed, i.BlocksRepaired, i.UnrepairableBlocks);
    }
}
