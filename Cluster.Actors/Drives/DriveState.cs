using System.Collections.Immutable;
using Shoal.Actors.Protocol;

namespace Shoal.Actors.Drives;

/// <summary>
/// A drive entity's state: inventory, health and segment allocation. Pure: <see cref="Decide"/> turns a command
/// into events and a reply without side effects, <see cref="Apply"/> folds one event in. The persistent actor only
/// recovers, decides, persists, applies and replies.
/// </summary>
public sealed record DriveState(
    DriveId Drive,
    DriveStatus Status,
    DriveInventory? Inventory,
    DateTimeOffset StatusSince,
    ImmutableSortedDictionary<uint, SegmentOwner> Allocated,
    ImmutableSortedDictionary<uint, SegmentOwner> Releasing,
    int ErrorCount,
    string? LastError)
{
    /// <summary>Most segments one allocation may ask for (a 64-wide stripe of 3-way mirrors of 1 TiB at 64 MiB segments is 1,024 per drive at worst).</summary>
    public const int MaxAllocationBatch = 4096;

    public static DriveState Empty(DriveId drive) => new(
        drive, DriveStatus.Unregistered, null, DateTimeOffset.MinValue,
        ImmutableSortedDictionary<uint, SegmentOwner>.Empty, ImmutableSortedDictionary<uint, SegmentOwner>.Empty, 0, null);

    /// <summary>Being emptied (drive evacuate, node drain): no new segments; its legs are moved elsewhere.</summary>
    public bool Draining { get; init; }

    public int FreeSegments => Inventory == null ? 0 : Inventory.SegmentCount - Allocated.Count - Releasing.Count;

    /// <summary>
    /// When its node entered maintenance (a planned restart, e.g. a rolling upgrade); null when not in maintenance.
    /// While in maintenance the out-after clock is held (an offline drive never turns out, so its legs wait for a delta
    /// resync instead of a full rebuild elsewhere) and no new segments are placed here; after
    /// <see cref="DriveHealthOptions.MaintenanceWindow"/> maintenance ends by itself.
    /// </summary>
    public DateTimeOffset? MaintenanceSince { get; init; }

    public bool InMaintenance => MaintenanceSince != null;

    /// <summary>Whether new segments may be placed here.</summary>
    public bool Allocatable => Status == DriveStatus.Online && !Draining && !InMaintenance;

    public DriveView View() => new(
        Drive, Status, Inventory, StatusSince, FreeSegments,
        Allocated.Select(kv => new AllocatedSegment(kv.Key, kv.Value)).ToImmutableArray(),
        Releasing.Select(kv => new AllocatedSegment(kv.Key, kv.Value)).ToImmutableArray(),
        ErrorCount, LastError, Draining, MaintenanceSince);

    public Decision<IDriveEvent, IDriveReply> Decide(IDriveCommand command, DateTimeOffset now, DriveHealthOptions options)
    {
        if (command.Drive != Drive)
        {
            return Refuse($"command for drive {command.Drive} reached drive {Drive}");
        }
        return command switch
        {
            RegisterDrive c => DecideRegister(c, now),
            DriveHeartbeat c => DecideHeartbeat(c, now),
            ReportDriveError c => DecideError(c, now, options),
            NodeUnreachable c => Inventory != null && c.Node == Inventory.Node && Status is DriveStatus.Online or DriveStatus.Suspect
                ? Accept([Transition(DriveStatus.Offline, $"node {c.Node} is unreachable", now)])
                : Accept([]),
            CheckDriveHealth c => DecideHealth(c, now, options),
            AllocateSegments c => DecideAllocate(c),
            ReleaseSegments c => DecideRelease(c),
            ConfirmSegmentsReleased c => DecideConfirmRelease(c),
            FailDrive c => Status is DriveStatus.Unregistered or DriveStatus.Removed
                ? Refuse($"drive is {Status}")
                : Accept(Status == DriveStatus.Failed ? [] : [Transition(DriveStatus.Failed, "operator: " + c.Reason, now)]),
            RemoveDrive c => DecideRemove(c, now),
            GetDrive => Accept([]),
            SetDriveDraining c => Status is DriveStatus.Unregistered or DriveStatus.Removed
                ? Refuse($"drive is {Status}")
                : Accept(c.Draining == Draining ? [] : [new DriveDrainingChanged(Drive, c.Draining, now)]),
            SetDriveMaintenance c => DecideMaintenance(c, now, options),
            _ => Refuse($"unknown drive command {command.GetType().Name}"),
        };
    }

    public DriveState Apply(IDriveEvent e) => e switch
    {
        DriveRegistered r => this with { Inventory = r.Inventory, Status = DriveStatus.Online, StatusSince = r.At },
        DriveInventoryUpdated u => this with { Inventory = u.Inventory },
        DriveStatusChanged s => this with { Status = s.To, StatusSince = s.At },
        DriveDrainingChanged d => this with { Draining = d.Draining },
        DriveMaintenanceChanged m => this with { MaintenanceSince = m.Maintenance ? m.At : null },
        DriveErrorRecorded r => this with { ErrorCount = ErrorCount + 1, LastError = r.Reason },
        SegmentsAllocated a => this with { Allocated = Allocated.SetItems(a.Segments.Select(s => KeyValuePair.Create(s.Segment, s.Owner))) },
        SegmentReleaseStarted r => this with
        {
            Allocated = Allocated.RemoveRange(r.Segments),
            Releasing = Releasing.SetItems(r.Segments.Select(s => KeyValuePair.Create(s, Allocated[s]))),
        },
        SegmentsReleased r => this with { Releasing = Releasing.RemoveRange(r.Segments) },
        _ => throw new InvalidOperationException($"unknown drive event {e.GetType().Name}"),
    };

    private Decision<IDriveEvent, IDriveReply> DecideRegister(RegisterDrive c, DateTimeOffset now)
    {
        DriveInventory inv = c.Inventory;
        if (inv.SegmentCount <= 0 || inv.SegmentBytes <= 0 || inv.CapacityBytes < inv.SegmentBytes * inv.SegmentCount || inv.RegionBytes <= 0)
        {
            return Refuse("inventory is inconsistent: segment count, segment size and capacity disagree");
        }
        switch (Status)
        {
            case DriveStatus.Unregistered:
                return Accept([new DriveRegistered(Drive, inv, now)]);
            case DriveStatus.Removed:
                return Refuse("the drive was removed from the cluster; format it again to reuse it");
            case DriveStatus.Failed:
                return Refuse("the drive was declared failed; remove it and format it again to reuse it");
        }
        if (inv.SegmentCount < Inventory!.SegmentCount && Allocated.Keys.Concat(Releasing.Keys).Any(s => s >= inv.SegmentCount))
        {
            return Refuse($"the drive now has {inv.SegmentCount} segments but segments beyond that are allocated");
        }
        var events = ImmutableArray.CreateBuilder<IDriveEvent>();
        if (inv != Inventory)
        {
            events.Add(new DriveInventoryUpdated(Drive, inv, now));
        }
        if (Status != DriveStatus.Online)
        {
            events.Add(Transition(DriveStatus.Online, $"registered by {inv.Node}", now));
        }
        return Accept(events.ToImmutable());
    }

    private Decision<IDriveEvent, IDriveReply> DecideHeartbeat(DriveHeartbeat c, DateTimeOffset now)
    {
        if (Inventory == null)
        {
            return Refuse("drive is not registered");
        }
        if (c.Node != Inventory.Node)
        {
            return Refuse($"drive belongs to node {Inventory.Node}, not {c.Node}");
        }
        return Status is DriveStatus.Suspect or DriveStatus.Offline or DriveStatus.Out
            ? Accept([Transition(DriveStatus.Online, "heartbeat", now)])
            : Accept([]);
    }

    private Decision<IDriveEvent, IDriveReply> DecideError(ReportDriveError c, DateTimeOffset now, DriveHealthOptions options)
    {
        if (Status is DriveStatus.Unregistered or DriveStatus.Removed or DriveStatus.Failed)
        {
            return Accept([]);
        }
        var events = ImmutableArray.CreateBuilder<IDriveEvent>();
        events.Add(new DriveErrorRecorded(Drive, c.Reason, now));
        if (ErrorCount + 1 >= options.FailAfterErrors)
        {
            events.Add(Transition(DriveStatus.Failed, $"{ErrorCount + 1} data-path errors, the last: {c.Reason}", now));
        }
        else if (Status == DriveStatus.Online)
        {
            events.Add(Transition(DriveStatus.Suspect, "data-path error: " + c.Reason, now));
        }
        return Accept(events.ToImmutable());
    }

    private Decision<IDriveEvent, IDriveReply> DecideMaintenance(SetDriveMaintenance c, DateTimeOffset now, DriveHealthOptions options)
    {
        if (Status is DriveStatus.Unregistered or DriveStatus.Removed or DriveStatus.Failed)
        {
            return Refuse($"drive is {Status}");
        }
        if (c.Maintenance == InMaintenance)
        {
            return Accept([]);
        }
        if (c.Maintenance)
        {
            return Accept([new DriveMaintenanceChanged(Drive, true, "operator", now)]);
        }
        // Leaving while the node is still away would start the out-after clock on a restart under way.
        return Status == DriveStatus.Online
            ? Accept([new DriveMaintenanceChanged(Drive, false, "operator", now)])
            : Refuse($"drive is {Status}: it leaves maintenance once it is back online " +
                $"(or by itself when the maintenance window of {options.MaintenanceWindow.TotalSeconds:0} s ends)");
    }

    private Decision<IDriveEvent, IDriveReply> DecideHealth(CheckDriveHealth c, DateTimeOffset now, DriveHealthOptions options)
    {
        if (MaintenanceSince is { } since && now - since >= options.MaintenanceWindow)
        {
            // A node that never came back: out-after counts again (from when the drive went offline, so an expired
            // window usually turns it out on the next check).
            return Accept([new DriveMaintenanceChanged(Drive, false, $"maintenance window of {options.MaintenanceWindow.TotalSeconds:0} s ended", now)]);
        }
        TimeSpan silent = now - c.LastHeartbeatAt;
        return Status switch
        {
            DriveStatus.Online when silent > options.SuspectAfter => Accept([Transition(DriveStatus.Suspect, $"no heartbeat for {silent.TotalSeconds:0.#} s", now)]),
            DriveStatus.Suspect when silent > options.OfflineAfter => Accept([Transition(DriveStatus.Offline, $"no heartbeat for {silent.TotalSeconds:0.#} s", now)]),
            DriveStatus.Offline when now - StatusSince >= options.OutAfter && !InMaintenance => Accept([Transition(DriveStatus.Out, $"offline for {(now - StatusSince).TotalSeconds:0} s (out-after {options.OutAfter.TotalSeconds:0} s)", now)]),
            _ => Accept([]),
        };
    }

    private Decision<IDriveEvent, IDriveReply> DecideAllocate(AllocateSegments c)
    {
        if (c.Owners.IsDefaultOrEmpty || c.Owners.Length > MaxAllocationBatch)
        {
            return Refuse($"an allocation asks for 1..{MaxAllocationBatch} segments");
        }
        var granted = ImmutableArray.CreateBuilder<AllocatedSegment>(c.Owners.Length);
        var fresh = ImmutableArray.CreateBuilder<AllocatedSegment>();
        uint next = 0;
        foreach (SegmentOwner owner in c.Owners)
        {
            uint? held = Allocated.Where(kv => kv.Value == owner).Select(kv => (uint?)kv.Key).FirstOrDefault();
            if (held != null)
            {
                granted.Add(new AllocatedSegment(held.Value, owner));
                continue;
            }
            if (!Allocatable)
            {
                return Refuse(Draining ? "drive is draining: no new segments"
                    : InMaintenance ? "drive is in maintenance: no new segments" : $"drive is {Status}: no new segments");
            }
            while (next < Inventory!.SegmentCount && (Allocated.ContainsKey(next) || Releasing.ContainsKey(next)))
            {
                next++;
            }
            if (next >= Inventory.SegmentCount)
            {
                return Refuse($"drive has {FreeSegments} free segments, {c.Owners.Length} were asked for");
            }
            var segment = new AllocatedSegment(next++, owner);
            granted.Add(segment);
            fresh.Add(segment);
        }
        ImmutableArray<IDriveEvent> events = fresh.Count == 0 ? [] : [new SegmentsAllocated(Drive, fresh.ToImmutable())];
        return new Decision<IDriveEvent, IDriveReply>(events, new SegmentsGranted(Drive, granted.ToImmutable()));
    }

    private Decision<IDriveEvent, IDriveReply> DecideRelease(ReleaseSegments c)
    {
        if (c.Segments.IsDefault)
        {
            return Refuse("no segments given");
        }
        foreach (uint s in c.Segments)
        {
            if (Allocated.TryGetValue(s, out SegmentOwner? owner) && owner.Uid != c.Uid)
            {
                return Refuse($"segment {s} belongs to volume {owner.Volume} ({owner.Uid}), not {c.Uid}");
            }
        }
        // Already releasing or already free: nothing to do for those (a retried release is harmless).
        ImmutableArray<uint> toRelease = c.Segments.Where(Allocated.ContainsKey).Distinct().ToImmutableArray();
        return Accept(toRelease.IsEmpty ? [] : [new SegmentReleaseStarted(Drive, toRelease)]);
    }

    private Decision<IDriveEvent, IDriveReply> DecideConfirmRelease(ConfirmSegmentsReleased c)
    {
        if (c.Segments.IsDefault)
        {
            return Refuse("no segments given");
        }
        ImmutableArray<uint> released = c.Segments.Where(Releasing.ContainsKey).Distinct().ToImmutableArray();
        return Accept(released.IsEmpty ? [] : [new SegmentsReleased(Drive, released)]);
    }

    private Decision<IDriveEvent, IDriveReply> DecideRemove(RemoveDrive c, DateTimeOffset now)
    {
        if (Status == DriveStatus.Removed)
        {
            return Accept([]);
        }
        if (Status == DriveStatus.Unregistered)
        {
            return Refuse("drive is not registered");
        }
        if (Allocated.Count > 0 && !c.Force)
        {
            return Refuse($"{Allocated.Count} segments are still allocated on the drive; evacuate it first (or force)");
        }
        return Accept([Transition(DriveStatus.Removed, c.Force ? "operator: removed by force" : "operator: removed", now)]);
    }

    private DriveStatusChanged Transition(DriveStatus to, string reason, DateTimeOffset now) => new(Drive, Status, to, reason, now);

    private Decision<IDriveEvent, IDriveReply> Accept(ImmutableArray<IDriveEvent> events)
    {
        DriveState next = this;
        foreach (IDriveEvent e in events)
        {
            next = next.Apply(e);
        }
        return new Decision<IDriveEvent, IDriveReply>(events, new DriveStateReply(next.View()));
    }

    private Decision<IDriveEvent, IDriveReply> Refuse(string reason) => new([], new DriveCommandRefused(Drive, reason));
}
