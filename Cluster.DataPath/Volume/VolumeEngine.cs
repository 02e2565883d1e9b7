using System.Collections.Immutable;
using Shoal.DataPath.Control;
using Shoal.DataPath.Memory;
using Shoal.DataPath.Transport;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Volume;

/// <summary>
/// The client's volume engine: maps each I/O onto segment groups, fans writes out to every active
/// leg (one hop, straight to the targets) and reads from one in-sync leg. A write is acknowledged
/// only when every in-sync leg has it; a leg that fails is handed to <see cref="IVolumeControl"/>,
/// which answers with a new layout at a higher epoch before the write is acknowledged. With no
/// in-sync leg left the I/O fails: nothing is ever served from a stale or rebuilding leg.
/// Hot path (submit, completion) is allocation-free; failures go to the control thread, resync and
/// intent clearing to the maintenance thread.
/// </summary>
public sealed unsafe partial class VolumeEngine : ILegFencer, IDisposable
{
    public const int EIO = 5;
    public const int EPERM = 1;

    private readonly IVolumeControl _control;
    private readonly EngineOptions _options;
    private readonly ClusterKey _key;
    private readonly Action<string> _log;
    private readonly Dictionary<string, TargetLink> _links = [];
    private readonly BlockMemory _memory;
    private readonly IoRequest[] _ios;
    private readonly int[] _free;
    private int _freeCount;
    private readonly object _poolGate = new();
    private readonly SemaphoreSlim _slots;
    private readonly object _layoutGate = new();
    /// <summary>
    /// One region table per group. A grown layout brings more groups: the array is replaced by a longer one (the
    /// existing tables kept) before the view that names the new groups is published, so a group index taken from
    /// any published view is always in range. Volumes never shrink.
    /// </summary>
    private volatile RegionTable[] _regions;
    private volatile View _view;
    private uint _readTurn;
    private readonly EngineCounters _counters = new();

    /// <summary>A layout with its links resolved, swapped atomically on every layout change.</summary>
    private sealed class View(VolumeLayout layout, TargetLink[][] links, TargetLink[] flushTargets)
    {
        public readonly VolumeLayout Layout = layout;
        public readonly TargetLink[][] Links = links;
        public readonly TargetLink[] FlushTargets = flushTargets;
    }

    public VolumeEngine(VolumeLayout layout, ClusterKey key, IVolumeControl control, EngineOptions options, Action<string> log)
    {
        IReadOnlyList<string> errors = layout.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid layout: " + string.Join("; ", errors), nameof(layout));
        }
        _control = control;
        _options = options;
        _key = key;
        _log = log;
        _memory = new BlockMemory(options.MaxIoBytes, options.MaxInflight);
        int maxChunks = layout.MaxChunks(options.MaxIoBytes);
        _ios = new IoRequest[options.MaxInflight];
        _free = new int[options.MaxInflight];
        for (int i = 0; i < _ios.Length; i++)
        {
            _ios[i] = new IoRequest(i, _memory.Pointer(i), options.MaxIoBytes, maxChunks, layout.LegCount);
            _free[i] = i;
        }
        _freeCount = _ios.Length;
        _slots = new SemaphoreSlim(options.MaxInflight, options.MaxInflight);
        _regions = GrowRegions([], layout);
        _view = BuildView(layout);
    }

    public VolumeLayout Layout => _view.Layout;

    public string Name => _view.Layout.Name;

    public long SizeBytes => _view.Layout.SizeBytes;

    public int MaxIoBytes => _options.MaxIoBytes;

    public EngineCounters Counters => _counters;

    /// <summary>Connects to the targets, claims the legs through the control port and starts the control and maintenance threads.</summary>
    public void Start()
    {
        foreach (TargetLink link in _links.Values)
        {
            link.Connect();
        }
        lock (_layoutGate)
        {
            Install(_control.Attach(_view.Layout, this));
        }
        SeedDirtyRegions();
        StartThreads();
        _log($"volume {Name}: attached at epoch {_view.Layout.Epoch}, {_view.Layout.Kind}, {_view.Layout.Groups.Length} groups x {_view.Layout.LegCount} legs");
    }

    private View BuildView(VolumeLayout layout)
    {
        foreach ((string name, string endpoint) in layout.Targets)
        {
            if (!_links.ContainsKey(name))
            {
                _links[name] = new TargetLink(name, endpoint, _key, _options.PollSpinMicros, _log, _options.MaxWireVersion);
            }
        }
        var links = new TargetLink[layout.Groups.Length][];
        var flush = new HashSet<TargetLink>();
        for (int g = 0; g < layout.Groups.Length; g++)
        {
            ImmutableArray<LegSegment> legs = layout.Groups[g].Legs;
            links[g] = new TargetLink[legs.Length];
            for (int l = 0; l < legs.Length; l++)
            {
                links[g][l] = _links[legs[l].Target];
                if (legs[l].Active)
                {
                    flush.Add(links[g][l]);
                }
            }
        }
        return new View(layout, links, [.. flush]);
    }

    /// <summary>Installs a layout decided by the control port. Call under the layout gate.</summary>
    private void Install(VolumeLayout layout)
    {
        if (!ReferenceEquals(layout, _view.Layout))
        {
            if (layout.Epoch < _view.Layout.Epoch)
            {
                throw new InvalidOperationException($"control port answered epoch {layout.Epoch} below the current {_view.Layout.Epoch}");
            }
            _regions = GrowRegions(_regions, layout);
            _view = BuildView(layout);
        }
    }

    private static RegionTable[] GrowRegions(RegionTable[] current, VolumeLayout layout)
    {
        if (layout.Groups.Length <= current.Length)
        {
            return current;
        }
        var grown = new RegionTable[layout.Groups.Length];
        current.CopyTo(grown, 0);
        for (int g = current.Length; g < grown.Length; g++)
        {
            grown[g] = new RegionTable((int)(layout.SegmentBytes / layout.RegionBytes));
        }
        return grown;
    }

    /// <summary>Takes a free I/O (waits while all <see cref="EngineOptions.MaxInflight"/> are out).</summary>
    public IoRequest Rent()
    {
        if (!_slots.Wait(0))
        {
            // The I/Os that would free a slot may sit in this thread's send batch: send it before waiting.
            FrameSocket.FlushDeferred();
            _slots.Wait();
        }
        lock (_poolGate)
        {
            IoRequest io = _ios[_free[--_freeCount]];
            io.Reset();
            return io;
        }
    }

    public void Return(IoRequest io)
    {
        lock (_poolGate)
        {
            _free[_freeCount++] = io.Index;
        }
        _slots.Release();
    }

    /// <summary>Starts an I/O; <see cref="IIoCompletion.OnIoComplete"/> is called exactly once, on any thread.</summary>
    public void Submit(IoRequest io)
    {
        View v = _view;
        VolumeLayout layout = v.Layout;
        io.SubmittedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        io.Pending = 1;
        io.Errno = 0;
        io.SubCount = 0;
        io.ChunkCount = 0;
        if (io.Kind == IoKind.Flush)
        {
            foreach (TargetLink link in v.FlushTargets)
            {
                SubIo sub = io.NextSub();
                sub.FlushTarget = link.Name;
                sub.Chunk = -1;
                sub.Attempts = 0;
                Interlocked.Increment(ref io.Pending);
                Dispatch(sub, v);
            }
        }
        else
        {
            io.ChunkCount = layout.Map(io.OffsetBytes, io.LengthBytes, io.Chunks);
            bool write = io.Kind != IoKind.Read;
            for (int c = 0; c < io.ChunkCount; c++)
            {
                Chunk chunk = io.Chunks[c];
                if (write)
                {
                    if (io.Kind == IoKind.Write)
                    {
                        io.ChunkCrcs[c] = Checksum.Crc32C(new ReadOnlySpan<byte>(io.Buffer + chunk.BufferOffsetBytes, chunk.LengthBytes));
                    }
                    (int first, int last) = RegionRange(layout, chunk);
                    _regions[chunk.Group].EnterWrite(first, last);
                    ImmutableArray<LegSegment> legs = layout.Groups[chunk.Group].Legs;
                    for (int l = 0; l < legs.Length; l++)
                    {
                        if (legs[l].Active)
                        {
                            SubIo sub = NewSub(io, c, chunk.Group, l);
                            Dispatch(sub, v);
                        }
                    }
                }
                else
                {
                    SubIo sub = NewSub(io, c, chunk.Group, -1);
                    sub.Leg = PickReadLeg(layout, chunk.Group, triedMask: 0);
                    if (sub.Leg < 0)
                    {
                        io.Errno = EIO;
                        Finish(sub);
                        continue;
                    }
                    Dispatch(sub, v);
                }
            }
        }
        Release(io);
    }

    private static (int First, int Last) RegionRange(VolumeLayout layout, Chunk chunk) =>
        ((int)(chunk.SegmentOffsetBytes / layout.RegionBytes), (int)((chunk.SegmentOffsetBytes + chunk.LengthBytes - 1) / layout.RegionBytes));

    private static SubIo NewSub(IoRequest io, int chunk, int group, int leg)
    {
        SubIo sub = io.NextSub();
        sub.Chunk = chunk;
        sub.Group = group;
        sub.Leg = leg;
        sub.FlushTarget = null;
        sub.Attempts = 0;
        sub.TriedLegs = 0;
        sub.CorruptLegs = 0;
        Interlocked.Increment(ref io.Pending);
        return sub;
    }

    private int PickReadLeg(VolumeLayout layout, int group, int triedMask)
    {
        ImmutableArray<LegSegment> legs = layout.Groups[group].Legs;
        uint turn = _readTurn++;
        for (int i = 0; i < legs.Length; i++)
        {
            int l = (int)((turn + (uint)i) % (uint)legs.Length);
            if (legs[l].State == LegState.InSync && (triedMask & (1 << l)) == 0)
            {
                return l;
            }
        }
        return -1;
    }

    private void Dispatch(SubIo sub, View v)
    {
        IoRequest io = sub.Parent;
        VolumeLayout layout = v.Layout;
        sub.Engine = this;
        sub.Epoch = layout.Epoch;
        var header = new WireHeader
        {
            VolumeId = layout.VolumeId,
            Epoch = layout.Epoch,
            WriterId = layout.WriterId,
        };
        TargetLink link;
        byte* payload = null;
        int payloadBytes = 0;
        byte* destination = null;
        int destinationBytes = 0;
        bool crcKnown = false;
        if (sub.FlushTarget != null)
        {
            header.Op = WireOp.Flush;
            link = _links[sub.FlushTarget];
        }
        else
        {
            Chunk chunk = io.Chunks[sub.Chunk];
            LegSegment leg = layout.Groups[sub.Group].Legs[sub.Leg];
            link = v.Links[sub.Group][sub.Leg];
            header.DriveIndex = leg.Drive;
            header.SegmentIndex = leg.Segment;
            header.LegIndex = (uint)sub.Leg;
            header.OffsetBytes = (ulong)chunk.SegmentOffsetBytes;
            header.LengthBytes = (uint)chunk.LengthBytes;
            switch (io.Kind)
            {
                case IoKind.Read:
                    header.Op = WireOp.Read;
                    destination = io.Buffer + chunk.BufferOffsetBytes;
                    destinationBytes = chunk.LengthBytes;
                    break;
                case IoKind.Write:
                    header.Op = WireOp.Write;
                    header.Flags = io.Fua ? WireFlags.Fua : WireFlags.None;
                    payload = io.Buffer + chunk.BufferOffsetBytes;
                    payloadBytes = chunk.LengthBytes;
                    header.PayloadCrc = io.ChunkCrcs[sub.Chunk];
                    crcKnown = true;
                    break;
                case IoKind.WriteZeroes:
                    header.Op = WireOp.WriteZeroes;
                    header.Flags = io.Fua ? WireFlags.Fua : WireFlags.None;
                    break;
                default:
                    header.Op = WireOp.Trim;
                    break;
            }
        }
        if (!link.Submit(ref header, payload, payloadBytes, destination, destinationBytes, sub, 0, crcKnown))
        {
            OnSubComplete(sub, WireStatus.IoError);
        }
    }

    internal void OnSubComplete(SubIo sub, WireStatus status)
    {
        if (status == WireStatus.Ok)
        {
            if (sub.CorruptLegs != 0)
            {
                CorruptReadServed(sub);
            }
            Finish(sub);
            return;
        }
        sub.Failure = status;
        EnqueueFailure(sub);
    }

    private void Finish(SubIo sub) => Release(sub.Parent);

    private void Release(IoRequest io)
    {
        if (Interlocked.Decrement(ref io.Pending) != 0)
        {
            return;
        }
        if (io.Kind is IoKind.Write or IoKind.WriteZeroes or IoKind.Trim)
        {
            VolumeLayout layout = _view.Layout;
            for (int c = 0; c < io.ChunkCount; c++)
            {
                (int first, int last) = RegionRange(layout, io.Chunks[c]);
                _regions[io.Chunks[c].Group].ExitWrite(first, last);
            }
        }
        _counters.Count(io);
        io.Owner!.OnIoComplete(io, io.Errno);
    }

    /// <summary>ILegFencer: fence one leg's segment on its target through the link (connecting if needed).</summary>
    public WireStatus Fence(VolumeLayout layout, int group, int leg, ulong epoch)
    {
        LegSegment segment = layout.Groups[group].Legs[leg];
        if (!_links.TryGetValue(segment.Target, out TargetLink? link))
        {
            return WireStatus.NotFound;
        }
        if (!link.Connected && !link.Connect(1000))
        {
            return WireStatus.IoError;
        }
        var header = new WireHeader
        {
            Op = WireOp.Fence,
            VolumeId = layout.VolumeId,
            Epoch = epoch,
            WriterId = layout.WriterId,
            DriveIndex = segment.Drive,
            SegmentIndex = segment.Segment,
            LegIndex = (uint)leg,
        };
        return link.Call(header, null, out _);
    }

    public void Dispose()
    {
        StopThreads();
        foreach (TargetLink link in _links.Values)
        {
            link.Dispose();
        }
    }
}
