using System.Collections.Immutable;
using Shoal.Actors.Protocol;
using Shoal.Actors.Volumes;
using Shoal.DataPath.Volume;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// The oracle. It sees everything: the history of each block (values only grow: 1, 2, 3… per block for the client,
/// negative for the zombie), its own replay of the entity's journal through the real <see cref="VolumeState.Apply"/>,
/// and every target's segments. Checks, each throwing a <see cref="SimulationFailure"/> at once:
/// <list type="bullet">
/// <item><c>read</c>: a read returns the last acknowledged value of its block, or a value written after it whose write
/// never completed (in flight, failed, or lost with a crash); never an older acknowledged value, a zombie's, or one
/// nobody wrote; and reads of a block never go back: once a read returned a value, later reads return it or a newer
/// one (one operation per block at a time, so no read overlaps a write; a region whose in-sync legs may disagree is
/// reconciled before anyone reads it).</item>
/// <item><c>ack</c>: when a write is acknowledged every leg in sync in the journal holds it.</item>
/// <item><c>lost-write</c> (after every journal append and every few steps): every leg in sync in the journal holds, in
/// every block, a value a read could return.</item>
/// <item><c>stale-read</c>: a target serves a read (application or copy source) only from a leg that was in sync at
/// the read's epoch.</item>
/// <item><c>zombie</c>: no write of the force-detached writer lands on a leg in sync in the journal.</item>
/// <item><c>epoch</c>/<c>fence</c>/<c>journal</c>: the journal's epoch never goes back and never leaves a group without an
/// in-sync leg; a target's epoch never goes back; every fence names the writer the journal had at its epoch.</item>
/// <item><c>converge</c> (at the end, faults healed and the system quiet): all legs in sync and identical, then after
/// a final write and read of every block, all legs hold exactly the last acknowledged values.</item>
/// </list>
/// </summary>
internal sealed class SimChecker
{
    /// <summary>Most writes of one block that may be open (issued, neither acknowledged nor overtaken) at once.</summary>
    public const int MaxOpenWritesPerBlock = 4096;

    private readonly SimWorld _world;
    private readonly long[] _lastAcked;
    private readonly long[] _lastIssued;
    private readonly long[] _readFloor;
    private readonly List<long>[] _unresolved;
    private readonly Dictionary<ulong, ImmutableArray<GroupInfo>> _layoutAt = [];
    private readonly Dictionary<ulong, WriterId> _writerAt = [];
    private long _lastZombieValue;
    private VolumeState _journal;

    public SimChecker(SimWorld world, VolumeName volume, int blockCount)
    {
        _world = world;
        _lastAcked = new long[blockCount];
        _lastIssued = new long[blockCount];
        _readFloor = new long[blockCount];
        _unresolved = new List<long>[blockCount];
        for (int b = 0; b < blockCount; b++)
        {
            _unresolved[b] = [];
        }
        _journal = VolumeState.Empty(volume);
    }

    /// <summary>The volume as the journal says it is.</summary>
    public VolumeState Journal => _journal;

    public long WritesIssued { get; private set; }

    public long WritesAcked { get; private set; }

    public long WritesFailed { get; private set; }

    public long ReadsChecked { get; private set; }

    public long TargetReadsChecked { get; private set; }

    public long FencesChecked { get; private set; }

    public long ZombieWritesLanded { get; private set; }

    public long InvariantSweeps { get; private set; }

    public long IssueWrite(int block)
    {
        WritesIssued++;
        if (_unresolved[block].Count >= MaxOpenWritesPerBlock)
        {
            throw Fail("limits", $"b{block} has {MaxOpenWritesPerBlock} writes that never completed");
        }
        long value = ++_lastIssued[block];
        _unresolved[block].Add(value);
        return value;
    }

    public long IssueZombieValue() => --_lastZombieValue;

    public void OnWriteAcked(int block, long value)
    {
        if (value <= _lastAcked[block] || !_unresolved[block].Contains(value))
        {
            throw Fail("ack", $"b{block}={value} acknowledged, but the last acknowledged value is {_lastAcked[block]} and the open writes are [{string.Join(",", _unresolved[block])}]");
        }
        WritesAcked++;
        _lastAcked[block] = value;
        _readFloor[block] = value;
        _unresolved[block].RemoveAll(v => v <= value);
        int g = _world.Geometry.GroupOf(block);
        int offset = _world.Geometry.OffsetOf(block);
        for (int l = 0; l < _world.Geometry.LegCount; l++)
        {
            if (Inside && _journal.Groups[g].Legs[l].State == LegState.InSync && _world.SegmentOf(g, l).Blocks[offset] != value)
            {
                throw Fail("ack", $"b{block}={value} acknowledged while g{g}l{l} ({_world.TargetOf(g, l).Name}), in sync at epoch {_journal.Epoch}, holds {_world.SegmentOf(g, l).Blocks[offset]}");
            }
        }
    }

    /// <summary>A failed write may still have landed anywhere: its value stays open until a later write is acknowledged.</summary>
    public void OnWriteFailed(int block, long value) => WritesFailed++;

    public void OnRead(int block, long value)
    {
        ReadsChecked++;
        if (!Allowed(block, value))
        {
            throw Fail("read", $"b{block} read {value}: {Explain(block, value)}");
        }
        if (value < _readFloor[block])
        {
            throw Fail("read", $"b{block} read {value} after a read returned {_readFloor[block]} with no write in between (legs in sync disagree); {Explain(block, value)}");
        }
        _readFloor[block] = value;
    }

    public void OnJournal(ImmutableArray<IVolumeEvent> events, VolumeState entity)
    {
        ulong before = _journal.Epoch;
        foreach (IVolumeEvent e in events)
        {
            _journal = _journal.Apply(e);
            if (e is LegReplaced replaced)
            {
                _world.OnLegPlaced(replaced.Group, replaced.Leg, replaced.Replacement);
            }
        }
        if (Inside)
        {
            CheckJournal(before, entity);
        }
        _layoutAt[_journal.Epoch] = _journal.Groups;
        _writerAt[_journal.Epoch] = _journal.Writer;
        CheckInSyncLegs();
    }

    private void CheckJournal(ulong before, VolumeState entity)
    {
        if (_journal.Epoch < before)
        {
            throw Fail("epoch", $"the journal's epoch went back from {before} to {_journal.Epoch}");
        }
        if (_journal.Epoch > before && _layoutAt.ContainsKey(_journal.Epoch))
        {
            throw Fail("epoch", $"epoch {_journal.Epoch} was used twice");
        }
        if (SimText.View(_journal.View()) != SimText.View(entity.View()))
        {
            throw Fail("journal", $"the entity holds {SimText.View(entity.View())} but its journal replays to {SimText.View(_journal.View())}");
        }
        for (int g = 0; g < _journal.Groups.Length; g++)
        {
            if (_journal.Groups[g].InSyncCount == 0)
            {
                throw Fail("journal", $"group {g} has no in-sync leg at epoch {_journal.Epoch}");
            }
        }
    }

    public void OnFence(SimTarget target, SimSegment segment, ulong previousEpoch, FenceSegment fence)
    {
        if (!Inside)
        {
            return;
        }
        FencesChecked++;
        if (fence.Epoch < previousEpoch)
        {
            throw Fail("epoch", $"{target.Name} g{segment.Group}l{segment.Leg} went back from epoch {previousEpoch} to {fence.Epoch}");
        }
        if (!_writerAt.TryGetValue(fence.Epoch, out WriterId writer) || writer.Value != fence.Writer)
        {
            throw Fail("fence", $"{target.Name} g{segment.Group}l{segment.Leg} fenced at epoch {fence.Epoch} for w{fence.Writer}; the journal's writer at that epoch is {(_writerAt.ContainsKey(fence.Epoch) ? $"w{writer.Value}" : "unknown: the epoch was never journaled")}");
        }
    }

    public void OnTargetRead(SimTarget target, SimSegment segment, ReadBlock read)
    {
        if (!Inside)
        {
            return;
        }
        TargetReadsChecked++;
        LegInfo? leg = segment.Group >= 0 && _layoutAt.TryGetValue(read.Epoch, out ImmutableArray<GroupInfo> groups) ? groups[segment.Group].Legs[segment.Leg] : null;
        LegState? state = leg != null && leg.Segment == new SegmentRef(segment.Drive, segment.Index) ? leg.State : null;
        if (state != LegState.InSync)
        {
            throw Fail("stale-read", $"{target.Name} served a {read.Purpose} read of g{segment.Group}l{segment.Leg} b{read.Block} at epoch {read.Epoch}, when that leg was {state?.ToString() ?? "unknown"}");
        }
    }

    public void OnTargetWrite(SimTarget target, SimSegment segment, WriteBlock write)
    {
        if (write.Value >= 0)
        {
            return;
        }
        ZombieWritesLanded++;
        LegState? state = segment.Group >= 0 ? _journal.Groups[segment.Group].Legs[segment.Leg].State : null;
        if (Inside && state == LegState.InSync)
        {
            throw Fail("zombie", $"the detached writer w{write.Writer} (epoch {write.Epoch}) wrote b{write.Block}={write.Value} on {target.Name} g{segment.Group}l{segment.Leg}, in sync at epoch {_journal.Epoch}");
        }
    }

    /// <summary>Every leg in sync in the journal holds, in every block, a value a read may return.</summary>
    public void CheckInSyncLegs() => CheckInSyncLegs("lost-write", Inside);

    private void CheckInSyncLegs(string check, bool enabled)
    {
        if (!enabled)
        {
            return;
        }
        InvariantSweeps++;
        SimGeometry geometry = _world.Geometry;
        for (int g = 0; g < geometry.GroupCount; g++)
        {
            for (int l = 0; l < geometry.LegCount; l++)
            {
                if (_journal.Groups[g].Legs[l].State != LegState.InSync)
                {
                    continue;
                }
                long[] blocks = _world.SegmentOf(g, l).Blocks;
                for (int offset = 0; offset < blocks.Length; offset++)
                {
                    int block = (g * geometry.BlocksPerGroup) + offset;
                    if (!Allowed(block, blocks[offset]))
                    {
                        throw Fail(check, $"g{g}l{l} ({_world.TargetOf(g, l).Name}), in sync at epoch {_journal.Epoch}, holds b{block}={blocks[offset]}: {Explain(block, blocks[offset])}");
                    }
                }
            }
        }
    }

    /// <summary>After healing and settling: every leg in sync and identical, every block readable.</summary>
    public void CheckConverged()
    {
        SimGeometry geometry = _world.Geometry;
        for (int g = 0; g < geometry.GroupCount; g++)
        {
            for (int l = 0; l < geometry.LegCount; l++)
            {
                if (_journal.Groups[g].Legs[l].State != LegState.InSync)
                {
                    throw Fail("converge", $"g{g}l{l} is {_journal.Groups[g].Legs[l].State} after healing");
                }
                long[] blocks = _world.SegmentOf(g, l).Blocks;
                long[] first = _world.SegmentOf(g, 0).Blocks;
                for (int offset = 0; offset < blocks.Length; offset++)
                {
                    if (blocks[offset] != first[offset])
                    {
                        throw Fail("converge", $"g{g}l{l} holds b{(g * geometry.BlocksPerGroup) + offset}={blocks[offset]} but g{g}l0 holds {first[offset]}");
                    }
                }
            }
        }
        CheckInSyncLegs("converge", enabled: true);
    }

    /// <summary>After the final sweep: every leg holds exactly the last acknowledged value of every block.</summary>
    public void CheckExact()
    {
        SimGeometry geometry = _world.Geometry;
        for (int block = 0; block < geometry.BlockCount; block++)
        {
            int g = geometry.GroupOf(block);
            for (int l = 0; l < geometry.LegCount; l++)
            {
                long held = _world.SegmentOf(g, l).Blocks[geometry.OffsetOf(block)];
                if (held != _lastAcked[block] || _lastAcked[block] != _lastIssued[block])
                {
                    throw Fail("converge", $"after the final sweep g{g}l{l} holds b{block}={held}; last acknowledged {_lastAcked[block]}, last issued {_lastIssued[block]}");
                }
            }
        }
    }

    private bool Allowed(int block, long value) => value == _lastAcked[block] || (value > _lastAcked[block] && _unresolved[block].Contains(value));

    private string Explain(int block, long value)
    {
        string why = value switch
        {
            < 0 => "a value of a force-detached writer",
            _ when value == _lastAcked[block] => "the last acknowledged value",
            _ when value < _lastAcked[block] => "older than the last acknowledged value (that write was lost)",
            _ when value > _lastIssued[block] => "a value never written",
            _ when _unresolved[block].Contains(value) => "a write that has not completed",
            _ => "a write that never completed, overtaken by a later acknowledged one",
        };
        return $"{why}; last acknowledged {_lastAcked[block]}, open writes [{string.Join(",", _unresolved[block])}], last issued {_lastIssued[block]}";
    }

    private SimulationFailure Fail(string check, string detail) => _world.Sim.Failure(check, detail);

    /// <summary>Whether the checks that look inside targets and journal are on (see <see cref="SimOptions.ObservableChecksOnly"/>).</summary>
    private bool Inside => !_world.Options.ObservableChecksOnly;
}
