using System.Collections.Immutable;
using Akka.Cluster;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using Shoal.Management.Api;
using Shoal.Management.Gateway;

namespace Shoal.Management.Metrics;

/// <summary>
/// The /metrics page, gathered on each scrape by asking the actors: client agents (per-volume I/O), target agents
/// (per-drive I/O), the drive directory (capacity, status), the volume entities (legs, rebuild progress) and
/// cluster membership.
/// </summary>
public static class MetricsExporter
{
    public static async Task<string> Scrape(ControlPlane cp, CancellationToken cancel)
    {
        var p = new PrometheusText();
        ClusterEvent.CurrentClusterState state = cp.ClusterState;
        foreach (IGrouping<MemberStatus, Member> g in state.Members.GroupBy(m => m.Status))
        {
            p.Gauge("shoal_cluster_members", "Cluster members by status", g.Count(), ("status", ApiMapping.Name(g.Key)));
        }
        p.Gauge("shoal_cluster_unreachable_members", "Members this node's failure detector considers unreachable", state.Unreachable.Count);

        foreach (LocalVolumes node in await cp.LocalVolumes(cancel))
        {
            foreach (LocalVolumeStats v in node.Volumes)
            {
                (string, string)[] l = [("volume", v.Volume.Value), ("node", node.Node.Value)];
                p.Counter("shoal_volume_reads_total", "Reads completed by the volume's client engine", v.Reads, l);
                p.Counter("shoal_volume_writes_total", "Writes (including trims and zeroes) completed by the volume's client engine", v.Writes, l);
                p.Counter("shoal_volume_read_bytes_total", "Bytes read", v.ReadBytes, l);
                p.Counter("shoal_volume_write_bytes_total", "Bytes written", v.WriteBytes, l);
                p.Counter("shoal_volume_errors_total", "I/Os failed to the application", v.Errors, l);
                p.Counter("shoal_volume_resync_bytes_total", "Bytes copied by resync and rebuild", v.ResyncBytes, l);
                p.Histogram("shoal_volume_read_latency_seconds", "Read latency at the client engine", v.ReadLatencyBuckets, v.ReadLatencySumMicros, l);
                p.Histogram("shoal_volume_write_latency_seconds", "Write latency at the client engine (every in-sync leg durable)", v.WriteLatencyBuckets, v.WriteLatencySumMicros, l);
                if (v.Integrity is { } i)
                {
                    p.Counter("shoal_volume_corrupt_reads_served_total", "Reads a leg answered with a block failing its checksum, served from another in-sync leg", i.CorruptReadsServed, l);
                    p.Counter("shoal_volume_blocks_repaired_total", "4 KiB blocks rewritten on a leg from a good copy", i.BlocksRepaired, l);
                    p.Counter("shoal_volume_unrepairable_blocks_total", "4 KiB blocks failing their checksum on every in-sync leg (lost; reads of them fail)", i.UnrepairableBlocks, l);
                    p.Gauge("shoal_volume_scrub_scanned_blocks", "4 KiB blocks (per leg) the last or current scrub has read", i.ScrubScannedBlocks, l);
                    p.Gauge("shoal_volume_scrub_bad_blocks", "Bad blocks the last or current scrub found", i.ScrubBadBlocks, l);
                    p.Gauge("shoal_volume_scrub_running", "1 while a scrub is queued or running", i.ScrubState is "queued" or "running" ? 1 : 0, l);
                }
            }
        }

        ImmutableArray<DriveView> drives = await cp.ListDrives(cancel);
        foreach (DriveView d in drives)
        {
            (string, string)[] l = [("drive", d.Drive.ToString()), ("node", d.Inventory?.Node.Value ?? "")];
            p.Gauge("shoal_drive_capacity_bytes", "Drive capacity", d.Inventory?.CapacityBytes ?? 0, l);
            p.Gauge("shoal_drive_free_bytes", "Unallocated segment bytes", (double)d.FreeSegments * (d.Inventory?.SegmentBytes ?? 0), l);
            p.Gauge("shoal_drive_up", "1 when the drive is online", d.Status == DriveStatus.Online ? 1 : 0, l);
            p.Gauge("shoal_drive_status", "The drive's health state (1 for the current one)", 1, [.. l, ("status", ApiMapping.Name(d.Status))]);
        }
        foreach (TargetStats t in await cp.TargetStats(cancel))
        {
            foreach (DriveIoStats d in t.Drives)
            {
                (string, string)[] l = [("drive", d.Drive.ToString()), ("node", t.Node.Value)];
                p.Counter("shoal_drive_reads_total", "Reads the drive served", d.Reads, l);
                p.Counter("shoal_drive_writes_total", "Writes the drive served", d.Writes, l);
                p.Counter("shoal_drive_read_bytes_total", "Bytes read from the drive", d.ReadBytes, l);
                p.Counter("shoal_drive_write_bytes_total", "Bytes written to the drive", d.WriteBytes, l);
                p.Counter("shoal_drive_errors_total", "Requests the drive refused or failed", d.Errors, l);
                p.Gauge("shoal_drive_checksums", "1 when the drive stores a CRC32C per 4 KiB block (format 2)", d.Checksums ? 1 : 0, l);
                p.Counter("shoal_drive_checksum_failures_total", "Requests the drive answered Corrupt: a block failed its checksum", d.ChecksumFailures, l);
                p.Histogram("shoal_drive_read_latency_seconds", "Drive read service time at the target", d.ReadLatencyBuckets, d.ReadLatencySumMicros, l);
                p.Histogram("shoal_drive_write_latency_seconds", "Drive write service time at the target", d.WriteLatencyBuckets, d.WriteLatencySumMicros, l);
            }
        }

        foreach (VolumeView v in await cp.ListVolumes(cancel))
        {
            (string, string)[] l = [("volume", v.Volume.Value)];
            p.Gauge("shoal_volume_epoch", "The volume's fencing epoch", v.Epoch, l);
            p.Gauge("shoal_volume_size_bytes", "The volume's size", v.Spec?.SizeBytes ?? 0, l);
            foreach (LegState s in Enum.GetValues<LegState>())
            {
                p.Gauge("shoal_volume_legs", "Legs by state", v.Groups.Sum(g => g.Legs.Count(x => x.State == s)), [.. l, ("state", ApiMapping.Name(s))]);
            }
            RebuildProgress[] rebuilding = [.. v.Groups.SelectMany(g => g.Legs).Where(x => x.State == LegState.Rebuilding && x.Rebuild != null).Select(x => x.Rebuild!)];
            p.Gauge("shoal_volume_rebuild_done_bytes", "Bytes of rebuilding legs copied so far (checkpointed)", rebuilding.Sum(r => r.DoneBytes), l);
            p.Gauge("shoal_volume_rebuild_total_bytes", "Bytes of rebuilding legs to copy", rebuilding.Sum(r => r.TotalBytes), l);
        }
        return p.ToString();
    }
}
