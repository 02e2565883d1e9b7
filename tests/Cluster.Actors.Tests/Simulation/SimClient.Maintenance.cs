using Shoal.Actors.Protocol;
using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The maintenance loop, one job at a time: reconcile regions whose in-sync legs may disagree, bring a stale or
/// rebuilding leg back, clear idle intent bits, and now and then ask the entity for the layout so a session that
/// lost the volume without noticing finds out.
/// </summary>
internal sealed partial class SimClient
{
    public const long ReprobeIntervalMs = 80;
    public const long CleanIntervalMs = 150;
    public const long CleanIdleMs = 50;
    public const long LeaseRefreshMs = 1000;
    public const long RegionLockWaitMs = 400;
    public const long RegionLockPollMs = 2;
    public const int MaxCopyAttempts = 4;

    private bool _maintaining;
    private long _nextCleanMs;

    public long ResyncsDone { get; private set; }

    public long RegionsCopied { get; private set; }

    public long Reconciles { get; private set; }

    public long IntentClears { get; private set; }

    private void Maintain()
    {
        After(ReprobeIntervalMs, Maintain);
        if (!_ready || _maintaining || _detaching)
        {
            return;
        }
        _maintaining = true;
        Action done = () => _maintaining = false;
        for (int g = 0; g < _regions.Length; g++)
        {
            if (_regions[g].UnreconciledMask != 0)
            {
                Reconcile(g, done);
                return;
            }
        }
        for (int g = 0; g < _regions.Length; g++)
        {
            for (int l = 0; l < World.Geometry.LegCount; l++)
            {
                if (StateOf(g, l) != LegState.InSync)
                {
                    Resync(g, l, done);
                    return;
                }
            }
        }
        if (Sim.NowMs >= _nextCleanMs)
        {
            _nextCleanMs = Sim.NowMs + CleanIntervalMs;
            ClearIdleIntent(0, done);
            return;
        }
        if (Sim.NowMs - _lastControlMs >= LeaseRefreshMs)
        {
            Refresh(_view!.Epoch, done);
            return;
        }
        done();
    }

    /// <summary>Makes every active leg hold what one in-sync leg holds, block by block, in the unreconciled regions.</summary>
    private void Reconcile(int group, Action done)
    {
        Reconciles++;
        ulong mask = _regions[group].UnreconciledMask;
        if ((World.Options.Bugs & SimBug.ClientSkipsReconcile) != 0)
        {
            for (int r = 0; r < _regions[group].Count; r++)
            {
                _regions[group].MarkReconciled(r);
            }
            done();
            return;
        }
        Sim.Log($"{Name} reconcile g{group} regions {mask:x}");
        CopyRegions(group, rebuildingLeg: -1, default, mask, intentMask: ulong.MaxValue, region => _regions[group].MarkReconciled(region), _ => done());
    }

    /// <summary>Brings a leg back: a stale one is pinged and reported returned (it becomes rebuilding), then copied and reported resynced.</summary>
    private void Resync(int group, int leg, Action done)
    {
        LegInfo info = Leg(group, leg);
        if (info.State == LegState.Rebuilding)
        {
            ResyncCopy(group, leg, done);
            return;
        }
        CallTarget(info, id => new PingTarget(id), reply =>
        {
            if (reply?.Status != WireStatus.Ok)
            {
                done();
                return;
            }
            Control(() => StateOf(group, leg) == LegState.Stale ? new ReportLegReturned(_volume, _writer, group, leg, LegAddress.Of(Leg(group, leg))) : null, _ =>
            {
                if (StateOf(group, leg) == LegState.Rebuilding)
                {
                    ResyncCopy(group, leg, done);
                }
                else
                {
                    done();
                }
            });
        });
    }

    /// <summary>
    /// Copies into a rebuilding leg and reports it resynced. The resync is bound to the segment the leg named when it
    /// began: if the leg is given another segment meanwhile (a replacement), the copy stops and nothing is reported,
    /// as far as this client can tell. (It cannot tell when its report is already on the way.)
    /// </summary>
    private void ResyncCopy(int group, int leg, Action done)
    {
        SegmentRef segment = Leg(group, leg).Segment;
        LegAddress address = LegAddress.Of(Leg(group, leg));
        bool Same() => Leg(group, leg).Segment == segment && StateOf(group, leg) == LegState.Rebuilding;
        GatherIntent(group, wholeIfUnreadable: l => l == leg, mask =>
        {
            if (mask == null || !Same())
            {
                done();
                return;
            }
            // A returning leg only lacks what the bitmaps name. A replacement segment started blank: everything from
            // its checkpoint on is copied, and below it only what the bitmaps name (it received every write since its
            // rebuild began), as VolumeEngine resumes a full rebuild. Only copies of named regions mark intent.
            RebuildProgress? rebuild = Leg(group, leg).Rebuild;
            bool full = rebuild?.Kind == RebuildKind.Full;
            ulong named = mask.Value | _regions[group].DirtyMask | _regions[group].UnreconciledMask;
            int fromRegion = full ? (int)(rebuild!.DoneBytes / World.Geometry.RegionBytes) : SimGeometry.MaxRegions;
            ulong regions = named | (fromRegion >= SimGeometry.MaxRegions ? 0 : ulong.MaxValue << fromRegion);
            if ((World.Options.Bugs & SimBug.ClientSkipsResyncCopy) != 0)
            {
                regions = 0;
            }
            Sim.Log($"{Name} resync g{group}l{leg} ({(full ? $"full from region {fromRegion}" : "delta")}) regions {regions:x}");
            long regionBytes = World.Geometry.RegionBytes;
            CopyRegions(group, leg, segment, regions, intentMask: named,
                region => Control(
                    () => Same() ? new ReportRebuildProgress(_volume, _writer, group, leg, (region + 1) * regionBytes, address) : null,
                    _ => { }),
                copied =>
                {
                    if (!copied || !Same())
                    {
                        done();
                        return;
                    }
                    Control(() => Same() ? new ReportLegResynced(_volume, _writer, group, leg, address) : null, _ =>
                    {
                        if (StateOf(group, leg) == LegState.InSync)
                        {
                            ResyncsDone++;
                        }
                        done();
                    });
                });
        });
    }

    /// <summary>
    /// The union of the intent bitmaps of the group's active legs. A leg for which <paramref name="wholeIfUnreadable"/>
    /// holds and that cannot answer makes every region count; any other leg that cannot answer makes the result null.
    /// </summary>
    private void GatherIntent(int group, Func<int, bool> wholeIfUnreadable, Action<ulong?> done)
    {
        var legs = new List<int>();
        for (int l = 0; l < World.Geometry.LegCount; l++)
        {
            if (StateOf(group, l) != LegState.Stale)
            {
                legs.Add(l);
            }
        }
        ulong uid = _view!.Uid.Value;
        ulong mask = 0;
        bool unknown = false;
        int pending = legs.Count;
        foreach (int l in legs)
        {
            LegInfo info = Leg(group, l);
            CallTarget(info, id => new ReadSegmentInfo(id, info.Segment.Segment), reply =>
            {
                SegmentSnapshot? snapshot = reply?.Status == WireStatus.Ok && reply.Info?.VolumeUid == uid ? reply.Info : null;
                if (snapshot != null)
                {
                    mask |= snapshot.IntentMask;
                }
                else if (wholeIfUnreadable(l))
                {
                    mask = ulong.MaxValue;
                }
                else
                {
                    unknown = true;
                }
                if (--pending == 0)
                {
                    done(unknown ? null : mask);
                }
            });
        }
    }

    /// <summary>
    /// Copies the regions in <paramref name="mask"/> in order, each under its lock: into <paramref name="rebuildingLeg"/>
    /// from an in-sync leg (a resync), or, with -1, from one in-sync leg into every other active leg (a reconcile). The
    /// copies of regions in <paramref name="intentMask"/> mark intent on their destination.
    /// </summary>
    private void CopyRegions(int group, int rebuildingLeg, SegmentRef rebuildingSegment, ulong mask, ulong intentMask, Action<int> regionCopied, Action<bool> done)
    {
        int region = 0;
        void Next()
        {
            while (region < World.Geometry.RegionsPerGroup && (mask & (1UL << region)) == 0)
            {
                region++;
            }
            if (region >= World.Geometry.RegionsPerGroup)
            {
                done(true);
                return;
            }
            int r = region++;
            CopyRegion(group, rebuildingLeg, rebuildingSegment, r, (intentMask & (1UL << r)) != 0, ok =>
            {
                if (!ok)
                {
                    done(false);
                    return;
                }
                RegionsCopied++;
                regionCopied(r);
                Next();
            });
        }
        Next();
    }

    private void CopyRegion(int group, int rebuildingLeg, SegmentRef rebuildingSegment, int region, bool markIntent, Action<bool> done)
    {
        SimRegionTable table = _regions[group];
        if (table.IsLocked(region))
        {
            throw Sim.Failure("limits", $"{Name}: region {region} of g{group} is locked twice");
        }
        table.Lock(region);
        long deadline = Sim.NowMs + RegionLockWaitMs;
        void Drain()
        {
            if (table.Drained(region))
            {
                int first = region * World.Geometry.RegionBlocks;
                CopyBlock(group, rebuildingLeg, rebuildingSegment, first, first + World.Geometry.RegionBlocks, markIntent, 0, ok =>
                {
                    table.Unlock(region);
                    done(ok);
                });
            }
            else if (Sim.NowMs >= deadline)
            {
                table.Unlock(region);
                done(false);
            }
            else
            {
                After(RegionLockPollMs, Drain);
            }
        }
        Drain();
    }

    /// <summary>Copies one block (read from an in-sync leg, written to each destination), then the next.</summary>
    private void CopyBlock(int group, int rebuildingLeg, SegmentRef rebuildingSegment, int block, int end, bool markIntent, int attempt, Action<bool> done)
    {
        if (block >= end)
        {
            done(true);
            return;
        }
        if (rebuildingLeg >= 0 && (StateOf(group, rebuildingLeg) != LegState.Rebuilding || Leg(group, rebuildingLeg).Segment != rebuildingSegment))
        {
            done(false);
            return;
        }
        int source = PickReadLeg(group, rebuildingLeg >= 0 ? 1 << rebuildingLeg : 0);
        if (source < 0)
        {
            done(false);
            return;
        }
        var destinations = new List<int>();
        for (int l = 0; l < World.Geometry.LegCount; l++)
        {
            if (l != source && (rebuildingLeg < 0 ? StateOf(group, l) != LegState.Stale : l == rebuildingLeg))
            {
                destinations.Add(l);
            }
        }
        ulong epoch = _view!.Epoch;
        ulong uid = _view.Uid.Value;
        Action retry = () => CopyBlock(group, rebuildingLeg, rebuildingSegment, block, end, markIntent, attempt + 1, done);
        LegInfo from = Leg(group, source);
        CallTarget(from, id => new ReadBlock(id, from.Segment.Segment, uid, epoch, _writer.Value, block, ReadPurpose.CopySource), reply =>
        {
            if (reply?.Status != WireStatus.Ok)
            {
                CopyTrouble(group, source, epoch, reply, attempt, retry, done);
                return;
            }
            long value = reply.Value;
            int index = 0;
            void WriteNext()
            {
                if (index >= destinations.Count)
                {
                    CopyBlock(group, rebuildingLeg, rebuildingSegment, block + 1, end, markIntent, 0, done);
                    return;
                }
                int destination = destinations[index++];
                LegInfo to = Leg(group, destination);
                // A copy of a named region marks intent like any write: while some leg is out of sync, this leg may
                // become the only one that can tell a later resync the region changed (the leg whose bits said so may
                // leave the layout). A region nobody names has not changed since the legs last agreed.
                bool intent = markIntent && (World.Options.Bugs & SimBug.ClientCopiesWithoutIntent) == 0;
                CallTarget(to, id => new WriteBlock(id, to.Segment.Segment, uid, epoch, _writer.Value, block, value, intent), written =>
                {
                    if (written?.Status == WireStatus.Ok)
                    {
                        WriteNext();
                    }
                    else
                    {
                        CopyTrouble(group, destination, epoch, written, attempt, retry, done);
                    }
                });
            }
            WriteNext();
        });
    }

    /// <summary>A copy step failed: redo it at a newer layout, push our fence, or report the leg and give up this round.</summary>
    private void CopyTrouble(int group, int leg, ulong epoch, TargetReply? reply, int attempt, Action retry, Action<bool> done)
    {
        WireStatus status = reply?.Status ?? WireStatus.IoError;
        if (attempt + 1 >= MaxCopyAttempts)
        {
            done(false);
        }
        else if (status is WireStatus.StaleEpoch or WireStatus.EpochAhead or WireStatus.Permission)
        {
            if (epoch < _view!.Epoch)
            {
                retry();
            }
            else if (status == WireStatus.EpochAhead)
            {
                PushFence(group, leg, fenced =>
                {
                    if (fenced)
                    {
                        retry();
                    }
                    else
                    {
                        done(false);
                    }
                });
            }
            else
            {
                Refresh(epoch, () =>
                {
                    if (_view!.Epoch > epoch)
                    {
                        retry();
                    }
                    else
                    {
                        done(false);
                    }
                });
            }
        }
        else
        {
            LegFailuresSeen++;
            ReportLegFailed(group, leg, $"copy: {(reply == null ? "timeout" : status.ToString())}", () => done(false));
        }
    }

    /// <summary>Clears the intent bits of regions every leg holds alike and nobody has written for a while, one group per step.</summary>
    private void ClearIdleIntent(int group, Action done)
    {
        if (group >= _regions.Length)
        {
            done();
            return;
        }
        SimRegionTable table = _regions[group];
        bool allInSync = true;
        for (int l = 0; l < World.Geometry.LegCount; l++)
        {
            allInSync &= StateOf(group, l) == LegState.InSync;
        }
        ulong mask = 0;
        for (int r = 0; allInSync && r < table.Count; r++)
        {
            if (table.IsDirty(r) && !table.IsUnreconciled(r) && table.Idle(r, Sim.NowMs, CleanIdleMs))
            {
                mask |= 1UL << r;
                table.Lock(r);
            }
        }
        if (mask == 0)
        {
            ClearIdleIntent(group + 1, done);
            return;
        }
        ulong epoch = _view!.Epoch;
        ulong uid = _view.Uid.Value;
        int pending = World.Geometry.LegCount;
        bool all = true;
        for (int l = 0; l < World.Geometry.LegCount; l++)
        {
            LegInfo info = Leg(group, l);
            CallTarget(info, id => new ClearIntent(id, info.Segment.Segment, uid, epoch, mask), reply =>
            {
                all &= reply?.Status == WireStatus.Ok;
                if (--pending > 0)
                {
                    return;
                }
                for (int r = 0; r < table.Count; r++)
                {
                    if ((mask & (1UL << r)) != 0)
                    {
                        if (all)
                        {
                            table.MarkClean(r);
                        }
                        table.Unlock(r);
                    }
                }
                if (all)
                {
                    IntentClears++;
                }
                ClearIdleIntent(group + 1, done);
            });
        }
    }
}
