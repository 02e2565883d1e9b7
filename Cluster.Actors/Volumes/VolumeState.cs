using System.Collections.Immutable;
using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Volumes;

/// <summary>
/// A volume entity's state: spec, epoch, legs, attachments, rebuild checkpoints and lifecycle. Pure: the
/// persistent actor does the impure work (placement, segment allocation, fencing the targets) and feeds the
/// results back as <c>Commit*</c> commands.
/// </summary>
/// <remarks>
/// The invariant every decision keeps: an in-sync leg becomes stale only while another leg of its group is in
/// sync. The writer acknowledges a write only after every in-sync leg has it, so no acknowledged write is ever
/// held only by a leg that is later treated as stale. Every layout change raises the epoch; the actor fences the
/// active legs at the new epoch before it replies.
/// </remarks>
public sealed record VolumeState(
    VolumeName Volume,
    VolumeStatus Status,
    VolumeUid Uid,
    VolumeSpec? Spec,
    long SegmentBytes,
    int RegionBytes,
    ulong Epoch,
    ImmutableArray<Attachment> Attachments,
    ImmutableArray<GroupInfo> Groups,
    ImmutableArray<SegmentRef> Releasing)
{
    /// <summary>Most readers one volume serves at once.</summary>
    public const int MaxAttachments = 64;

    public static VolumeState Empty(VolumeName volume) => new(volume, VolumeStatus.None, default, null, 0, 0, 0, [], [], []);

    /// <summary>The exclusive writer, or default when none is attached.</summary>
    public WriterId Writer => Attachments.FirstOrDefault(a => a.Mode == AttachMode.ReadWrite)?.Writer ?? default;

    public VolumeView View() => new(Volume, Uid, Status, Spec, SegmentBytes, RegionBytes, Epoch, Writer, Attachments, Groups, Releasing);

    /// <summary>Every segment the volume holds, in group and leg order.</summary>
    public IEnumerable<SegmentRef> Segments() => Groups.SelectMany(g => g.Legs.Select(l => l.Segment));

    /// <summary>The (group, leg) pairs whose segment sits on <paramref name="drive"/>.</summary>
    public IEnumerable<(int Group, int Leg)> LegsOn(DriveId drive)
    {
        for (int g = 0; g < Groups.Length; g++)
        {
            for (int l = 0; l < Groups[g].Legs.Length; l++)
            {
                if (Groups[g].Legs[l].Segment.Drive == drive)
                {
                    yield return (g, l);
                }
            }
        }
    }

    /// <summary>Null when a create should go on to placement; otherwise the answer (the existing volume, or why not).</summary>
    public IVolumeReply? CheckCreate(CreateVolume c)
    {
        IReadOnlyList<string> errors = c.Spec.Validate();
        if (errors.Count > 0)
        {
            return Refuse(VolumeRefusal.Invalid, string.Join("; ", errors)).Reply;
        }
        return Status switch
        {
            VolumeStatus.Ready when Spec == c.Spec => new VolumeStateReply(View()),
            VolumeStatus.Ready => Refuse(VolumeRefusal.Conflict, $"volume {Volume} exists with another spec").Reply,
            VolumeStatus.Deleting => Refuse(VolumeRefusal.Busy, $"volume {Volume} is being deleted").Reply,
            _ => null,
        };
    }

    /// <summary>Null when a grow should go on to placement of the added groups; otherwise the answer.</summary>
    public IVolumeReply? CheckGrow(GrowVolume c)
    {
        if (Status != VolumeStatus.Ready)
        {
            return NotReady().Reply;
        }
        if (c.SizeBytes == Spec!.SizeBytes)
        {
            return new VolumeStateReply(View());
        }
        if (c.SizeBytes < Spec.SizeBytes)
        {
            return Refuse(VolumeRefusal.Invalid, $"volumes cannot shrink ({Spec.SizeBytes} to {c.SizeBytes} bytes)").Reply;
        }
        IReadOnlyList<string> errors = (Spec with { SizeBytes = c.SizeBytes }).Validate();
        return errors.Count > 0 ? Refuse(VolumeRefusal.Invalid, string.Join("; ", errors)).Reply : null;
    }

    public Decision<IVolumeEvent, IVolumeReply> Decide(IVolumeCommand command, DateTimeOffset now)
    {
        if (command.Volume != Volume)
        {
            return Refuse(VolumeRefusal.Invalid, $"command for volume {command.Volume} reached volume {Volume}");
        }
        return command switch
        {
            CommitCreate c => DecideCommitCreate(c, now),
            CommitGrow c => DecideCommitGrow(c),
            DeleteVolume => DecideDelete(),
            AcknowledgeRelease c => DecideAcknowledgeRelease(c, now),
            AttachVolume c => DecideAttach(c, now),
            DetachVolume c => DecideDetach(c),
            ReportLegFailed c => CheckWriter(c.Writer) ?? CheckLeg(c.Group, c.Leg, c.At) ?? DecideStale(c.Group, c.Leg, c.Reason),
            LegUnfenceable c => Status != VolumeStatus.Ready ? NotReady() : CheckLeg(c.Group, c.Leg) ?? DecideStale(c.Group, c.Leg, c.Reason),
            ReportLegReturned c => CheckWriter(c.Writer) ?? CheckLeg(c.Group, c.Leg, c.At) ?? DecideReturned(c, now),
            ReportRebuildProgress c => CheckWriter(c.Writer) ?? CheckLeg(c.Group, c.Leg, c.At) ?? DecideProgress(c, now),
            ReportLegResynced c => CheckWriter(c.Writer) ?? CheckLeg(c.Group, c.Leg, c.At) ?? DecideResynced(c),
            CommitReplaceLeg c => Status != VolumeStatus.Ready ? NotReady() : CheckLeg(c.Group, c.Leg) ?? DecideReplace(c),
            GetVolume or DriveLost or EvacuateDrive => Accept([]),
            CreateVolume or GrowVolume => Refuse(VolumeRefusal.Invalid, $"{command.GetType().Name} goes through placement first"),
            _ => Refuse(VolumeRefusal.Invalid, $"unknown volume command {command.GetType().Name}"),
        };
    }

    public VolumeState Apply(IVolumeEvent e) => e switch
    {
        VolumeCreated c => this with
        {
            Status = VolumeStatus.Ready,
            Uid = c.Uid,
            Spec = c.Spec,
            SegmentBytes = c.SegmentBytes,
            RegionBytes = c.RegionBytes,
            Epoch = c.Epoch,
            Attachments = [],
            Groups = c.Groups,
            Releasing = [],
        },
        VolumeGrown g => this with { Spec = Spec! with { SizeBytes = g.SizeBytes }, Groups = Groups.AddRange(g.AddedGroups), Epoch = g.Epoch },
        VolumeAttached a => this with { Attachments = Attachments.RemoveAll(x => x.Writer == a.Attachment.Writer).Add(a.Attachment), Epoch = a.Epoch },
        VolumeDetached d => this with { Attachments = Attachments.RemoveAll(x => x.Writer == d.Writer), Epoch = d.Epoch },
        // A replacement leg that fails mid-rebuild keeps its full-rebuild checkpoint: it holds nothing below it but
        // what was copied, so when it returns it must go on copying everything, not only the bitmaps' regions.
        LegMarkedStale s => WithLeg(s.Group, s.Leg, l => l with { State = LegState.Stale, Rebuild = l.Rebuild is { Kind: RebuildKind.Full } ? l.Rebuild : null }) with { Epoch = s.Epoch },
        LegRebuildStarted r => WithLeg(r.Group, r.Leg, l => l with { State = LegState.Rebuilding, Rebuild = r.Progress }) with { Epoch = r.Epoch },
        LegReplaced r => WithLeg(r.Group, r.Leg, _ => r.Replacement) with { Releasing = Releasing.Add(r.Replaced), Epoch = r.Epoch },
        RebuildCheckpointed r => WithLeg(r.Group, r.Leg, l => l with { Rebuild = l.Rebuild! with { DoneBytes = r.DoneBytes, CheckpointAt = r.At } }),
        LegInSync s => WithLeg(s.Group, s.Leg, l => l with { State = LegState.InSync, Rebuild = null }) with { Epoch = s.Epoch },
        VolumeDeletionStarted d => this with { Status = VolumeStatus.Deleting, Releasing = Releasing.AddRange(Segments().Where(s => !Releasing.Contains(s))), Epoch = d.Epoch },
        VolumeSegmentsReleased r => this with { Releasing = Releasing.RemoveRange(r.Segments) },
        VolumeDeleted => this with { Status = VolumeStatus.Deleted, Spec = null, Groups = [], Attachments = [], Releasing = [] },
        _ => throw new InvalidOperationException($"unknown volume event {e.GetType().Name}"),
    };

    private Decision<IVolumeEvent, IVolumeReply> DecideCommitCreate(CommitCreate c, DateTimeOffset now)
    {
        if (Status == VolumeStatus.Ready && Uid == c.Uid)
        {
            return Accept([]);
        }
        if (Status is not (VolumeStatus.None or VolumeStatus.Deleted))
        {
            return Refuse(VolumeRefusal.Conflict, $"volume {Volume} already exists");
        }
        if (c.Uid.Value == 0 || c.Uid == Uid)
        {
            return Refuse(VolumeRefusal.Invalid, "a new volume needs a fresh, non-zero uid");
        }
        string? problem = CheckGroups(c.Spec, c.Spec.GroupsFor(c.Spec.SizeBytes, c.SegmentBytes), c.Groups) ?? CheckSegmentSize(c.SegmentBytes, c.RegionBytes);
        if (problem != null)
        {
            return Refuse(VolumeRefusal.Invalid, problem);
        }
        return Accept([new VolumeCreated(Volume, c.Uid, c.Spec, c.SegmentBytes, c.RegionBytes, c.Groups, Epoch + 1, now)]);
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideCommitGrow(CommitGrow c)
    {
        if (Status != VolumeStatus.Ready)
        {
            return NotReady();
        }
        if (c.SizeBytes <= Spec!.SizeBytes)
        {
            return c.SizeBytes == Spec.SizeBytes ? Accept([]) : Refuse(VolumeRefusal.Invalid, "volumes cannot shrink");
        }
        int added = Spec.GroupsFor(c.SizeBytes, SegmentBytes) - Groups.Length;
        string? problem = CheckGroups(Spec, added, c.AddedGroups.IsDefault ? [] : c.AddedGroups);
        if (problem != null)
        {
            return Refuse(VolumeRefusal.Invalid, problem);
        }
        if (c.AddedGroups.SelectMany(g => g.Legs).Any(l => Segments().Contains(l.Segment)))
        {
            return Refuse(VolumeRefusal.Invalid, "an added segment is already part of the volume");
        }
        return Accept([new VolumeGrown(Volume, c.SizeBytes, c.AddedGroups.IsDefault ? [] : c.AddedGroups, Epoch + 1)]);
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideDelete()
    {
        switch (Status)
        {
            case VolumeStatus.None:
                return Refuse(VolumeRefusal.NotFound, $"volume {Volume} does not exist");
            case VolumeStatus.Deleting or VolumeStatus.Deleted:
                return Accept([]);
        }
        if (Attachments.Length > 0)
        {
            return Refuse(VolumeRefusal.Attached, $"volume {Volume} is attached by {string.Join(", ", Attachments.Select(a => a.Client))}; detach it first");
        }
        return Accept([new VolumeDeletionStarted(Volume, Epoch + 1)]);
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideAcknowledgeRelease(AcknowledgeRelease c, DateTimeOffset now)
    {
        if (c.Segments.IsDefault)
        {
            return Refuse(VolumeRefusal.Invalid, "no segments given");
        }
        ImmutableArray<SegmentRef> released = c.Segments.Where(Releasing.Contains).Distinct().ToImmutableArray();
        if (released.IsEmpty)
        {
            return Accept([]);
        }
        bool last = Status == VolumeStatus.Deleting && released.Length == Releasing.Length;
        return Accept(last
            ? [new VolumeSegmentsReleased(Volume, released), new VolumeDeleted(Volume, now)]
            : [new VolumeSegmentsReleased(Volume, released)]);
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideAttach(AttachVolume c, DateTimeOffset now)
    {
        if (Status != VolumeStatus.Ready)
        {
            return NotReady();
        }
        if (c.Writer.Value == 0)
        {
            return Refuse(VolumeRefusal.Invalid, "writer id must not be 0");
        }
        var attachment = new Attachment(c.Client, c.Writer, c.Mode, now);
        ImmutableArray<Attachment> others = Attachments.RemoveAll(a => a.Writer == c.Writer);
        ImmutableArray<Attachment> blocking = c.Mode == AttachMode.ReadWrite ? others : others.RemoveAll(a => a.Mode == AttachMode.ReadOnly);
        if (!blocking.IsEmpty && !c.Force)
        {
            Attachment first = blocking[0];
            return Refuse(VolumeRefusal.Attached, first.Mode == AttachMode.ReadWrite
                ? $"volume {Volume} is attached for writing by {first.Client} (writer {first.Writer}); force-detach it first"
                : $"volume {Volume} is attached read-only by {string.Join(", ", blocking.Select(a => a.Client))}; detach them first");
        }
        Attachment? existing = Attachments.FirstOrDefault(a => a.Writer == c.Writer);
        if (blocking.IsEmpty && c.Mode == AttachMode.ReadOnly && existing is { Mode: AttachMode.ReadOnly } && existing.Client == c.Client)
        {
            return Accept([]);
        }
        if (others.Length - blocking.Length + 1 > MaxAttachments)
        {
            return Refuse(VolumeRefusal.Busy, $"volume {Volume} has {MaxAttachments} attachments already");
        }
        // A writer (new, re-attaching or forcing) always gets a new epoch: that fences every earlier session. A
        // reader joins at the current epoch unless it pushed a writer out (forced, or its own writer session).
        bool bump = c.Mode == AttachMode.ReadWrite || !blocking.IsEmpty || existing?.Mode == AttachMode.ReadWrite;
        ulong epoch = bump ? Epoch + 1 : Epoch;
        var events = ImmutableArray.CreateBuilder<IVolumeEvent>();
        foreach (Attachment a in blocking)
        {
            events.Add(new VolumeDetached(Volume, a.Writer, Forced: true, epoch));
        }
        events.Add(new VolumeAttached(Volume, attachment, epoch));
        return Accept(events.ToImmutable());
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideDetach(DetachVolume c)
    {
        if (Status != VolumeStatus.Ready)
        {
            return NotReady();
        }
        Attachment? attachment = Attachments.FirstOrDefault(a => a.Writer == c.Writer);
        if (attachment == null)
        {
            return Accept([]);
        }
        // Detaching the writer fences it: nothing it still has in flight may land after the detach is answered.
        ulong epoch = attachment.Mode == AttachMode.ReadWrite ? Epoch + 1 : Epoch;
        return Accept([new VolumeDetached(Volume, c.Writer, Forced: false, epoch)]);
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideStale(int group, int leg, string reason)
    {
        LegInfo info = Groups[group].Legs[leg];
        if (info.State == LegState.Stale)
        {
            return Accept([]);
        }
        if (info.State == LegState.InSync && Groups[group].InSyncCount == 1)
        {
            return Refuse(VolumeRefusal.LastInSyncLeg, $"group {group} leg {leg} is the group's last in-sync leg: it stays in sync and I/O to it fails until it returns");
        }
        return Accept([new LegMarkedStale(Volume, group, leg, reason, Epoch + 1)]);
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideReturned(ReportLegReturned c, DateTimeOffset now)
    {
        LegInfo info = Groups[c.Group].Legs[c.Leg];
        if (info.State != LegState.Stale)
        {
            return Accept([]);
        }
        RebuildProgress progress = info.Rebuild is { Kind: RebuildKind.Full } full
            ? full with { CheckpointAt = now }
            : new RebuildProgress(RebuildKind.Delta, 0, SegmentBytes, now, now);
        return Accept([new LegRebuildStarted(Volume, c.Group, c.Leg, progress, Epoch + 1)]);
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideProgress(ReportRebuildProgress c, DateTimeOffset now)
    {
        LegInfo info = Groups[c.Group].Legs[c.Leg];
        if (info.State != LegState.Rebuilding || info.Rebuild == null)
        {
            return Refuse(VolumeRefusal.Invalid, $"group {c.Group} leg {c.Leg} is {info.State}, not rebuilding");
        }
        if (c.DoneBytes < 0 || c.DoneBytes > info.Rebuild.TotalBytes)
        {
            return Refuse(VolumeRefusal.Invalid, $"progress {c.DoneBytes} is outside 0..{info.Rebuild.TotalBytes}");
        }
        // A checkpoint never moves back: a resumed copier that reports less than was recorded is behind, not ahead.
        return Accept(c.DoneBytes <= info.Rebuild.DoneBytes ? [] : [new RebuildCheckpointed(Volume, c.Group, c.Leg, c.DoneBytes, now)]);
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideResynced(ReportLegResynced c)
    {
        LegInfo info = Groups[c.Group].Legs[c.Leg];
        return info.State switch
        {
            LegState.InSync => Accept([]),
            LegState.Stale => Refuse(VolumeRefusal.Invalid, $"group {c.Group} leg {c.Leg} is stale; it must return and rebuild first"),
            _ => Accept([new LegInSync(Volume, c.Group, c.Leg, Epoch + 1)]),
        };
    }

    private Decision<IVolumeEvent, IVolumeReply> DecideReplace(CommitReplaceLeg c)
    {
        LegInfo old = Groups[c.Group].Legs[c.Leg];
        if (old.Segment == c.Replacement.Segment)
        {
            return Accept([]);
        }
        if (old.State == LegState.InSync && Groups[c.Group].InSyncCount == 1)
        {
            return Refuse(VolumeRefusal.LastInSyncLeg, $"group {c.Group} leg {c.Leg} holds the group's only in-sync copy; it cannot be replaced");
        }
        if (c.Replacement.State != LegState.Rebuilding || c.Replacement.Rebuild is not { Kind: RebuildKind.Full, DoneBytes: 0 })
        {
            return Refuse(VolumeRefusal.Invalid, "a replacement leg starts rebuilding from offset 0");
        }
        if (Segments().Contains(c.Replacement.Segment) || Groups[c.Group].Legs.Any(l => l.Segment.Drive == c.Replacement.Segment.Drive))
        {
            return Refuse(VolumeRefusal.Invalid, "the replacement segment's drive already holds a leg of this group");
        }
        return Accept([new LegReplaced(Volume, c.Group, c.Leg, c.Replacement, old.Segment, Epoch + 1)]);
    }

    private static string? CheckGroups(VolumeSpec spec, int expectedGroups, ImmutableArray<GroupInfo> groups)
    {
        if (groups.IsDefault || groups.Length != expectedGroups)
        {
            return $"expected {expectedGroups} segment groups, got {(groups.IsDefault ? 0 : groups.Length)}";
        }
        var seen = new HashSet<SegmentRef>();
        for (int g = 0; g < groups.Length; g++)
        {
            ImmutableArray<LegInfo> legs = groups[g].Legs;
            if (legs.IsDefault || legs.Length != spec.Legs)
            {
                return $"group {g} needs {spec.Legs} legs";
            }
            if (legs.Any(l => l.State != LegState.InSync || l.Rebuild != null))
            {
                return $"group {g}: new legs start in sync";
            }
            if (legs.Select(l => l.Segment.Drive).Distinct().Count() != legs.Length)
            {
                return $"group {g}: legs must sit on distinct drives";
            }
            if (legs.Any(l => !seen.Add(l.Segment)))
            {
                return $"group {g}: a segment is used twice";
            }
        }
        return null;
    }

    private static string? CheckSegmentSize(long segmentBytes, int regionBytes) =>
        segmentBytes <= 0 || segmentBytes % (1 << 20) != 0 || regionBytes < 4096 || segmentBytes % regionBytes != 0
            ? "segment size must be a positive multiple of 1 MiB and of the region size"
            : null;

    private Decision<IVolumeEvent, IVolumeReply>? CheckWriter(WriterId writer)
    {
        if (Status != VolumeStatus.Ready)
        {
            return NotReady();
        }
        return writer != Writer || writer.Value == 0
            ? Refuse(VolumeRefusal.NotWriter, $"writer {writer} is not the writer of volume {Volume} (fenced at epoch {Epoch})")
            : null;
    }

    private Decision<IVolumeEvent, IVolumeReply>? CheckLeg(int group, int leg, LegAddress? at = null)
    {
        if (group < 0 || group >= Groups.Length || leg < 0 || leg >= Groups[group].Legs.Length)
        {
            return Refuse(VolumeRefusal.Invalid, $"volume {Volume} has no group {group} leg {leg}");
        }
        // A report that waited while the leg was replaced speaks of the old segment: applying it to the new one
        // could mark a segment nobody copied into as in sync.
        return at is { } a && a != LegAddress.Of(Groups[group].Legs[leg])
            ? Refuse(VolumeRefusal.Invalid, $"group {group} leg {leg} is no longer {a.Target}/{a.TargetDrive}/{a.Segment}: the report is about a replaced segment")
            : null;
    }

    private VolumeState WithLeg(int group, int leg, Func<LegInfo, LegInfo> change)
    {
        GroupInfo g = Groups[group];
        return this with { Groups = Groups.SetItem(group, g with { Legs = g.Legs.SetItem(leg, change(g.Legs[leg])) }) };
    }

    private Decision<IVolumeEvent, IVolumeReply> NotReady() => Status switch
    {
        VolumeStatus.None or VolumeStatus.Deleted => Refuse(VolumeRefusal.NotFound, $"volume {Volume} does not exist"),
        _ => Refuse(VolumeRefusal.Busy, $"volume {Volume} is being deleted"),
    };

    private Decision<IVolumeEvent, IVolumeReply> Accept(ImmutableArray<IVolumeEvent> events)
    {
        VolumeState next = this;
        foreach (IVolumeEvent e in events)
        {
            next = next.Apply(e);
        }
        return new Decision<IVolumeEvent, IVolumeReply>(events, new VolumeStateReply(next.View()));
    }

    private Decision<IVolumeEvent, IVolumeReply> Refuse(VolumeRefusal code, string reason) => new([], new VolumeCommandRefused(Volume, code, reason));
}
