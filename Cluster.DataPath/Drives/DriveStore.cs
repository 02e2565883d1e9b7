using System.Runtime.InteropServices;
using Shoal.DataPath.Memory;
using Shoal.DataPath.Native;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Drives;

/// <summary>
/// One drive (a file or a block device) formatted as Shoal segments. Opened with O_DIRECT where the
/// file system allows it. Every data access is bounds-checked against its segment and fence-checked
/// against the segment's owner, epoch and writer; nothing is ever written outside a segment.
/// Thread-safe: the target's connection threads call it concurrently.
/// </summary>
public sealed unsafe class DriveStore : IDisposable
{
    private const int SectorBytes = 4096;

    private readonly int _fd;

    /// <summary>The descriptor the CRC tables go through: buffered (the page cache batches the small table writes),
    /// made durable by the same fdatasync that makes the data durable (one inode). <see cref="_fd"/> when not direct.</summary>
    private readonly int _crcFd;
    private readonly DriveSegment[] _segments;
    private readonly BlockMemory _scratch; // [0] metadata block, [1] bounce for unaligned I/O, [2] zeros
    private readonly object _metaGate = new();
    private readonly object _bounceGate = new();
    private readonly int _maxIoBytes;
    private long _ioErrors;
    private bool _disposed;

    private DriveStore(string path, int fd, int crcFd, bool direct, Superblock superblock, int maxIoBytes)
    {
        Path = path;
        _fd = fd;
        _crcFd = crcFd;
        Direct = direct;
        Superblock = superblock;
        _maxIoBytes = maxIoBytes;
        int scratchBytes = maxIoBytes + (2 * SectorBytes);
        _scratch = new BlockMemory(scratchBytes, 3);
        _scratch.Span(2).Clear();
        _segments = new DriveSegment[superblock.SegmentCount];
        for (int i = 0; i < _segments.Length; i++)
        {
            _segments[i] = new DriveSegment(i, superblock.RegionsPerSegment);
        }
    }

    public string Path { get; }

    /// <summary>True when the drive is opened with O_DIRECT (no page cache).</summary>
    public bool Direct { get; }

    public Superblock Superblock { get; }

    /// <summary>True when the drive stores and verifies a CRC32C per 4 KiB block (format 2); false on a format 1 drive.</summary>
    public bool Checksums => Superblock.HasChecksums;

    /// <summary>The I/O its target served from this drive.</summary>
    public DriveCounters Counters { get; } = new();

    public IReadOnlyList<DriveSegment> Segments => _segments;

    public long IoErrors => Interlocked.Read(ref _ioErrors);

    /// <summary>
    /// Opens a drive, formatting it when it is blank (or when forced). Refuses, with the reason, a
    /// drive of another cluster or one holding foreign data unless <see cref="DriveOpenOptions.ForceFormat"/>.
    /// </summary>
    public static DriveStore Open(string path, DriveOpenOptions options, Action<string> log)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!File.Exists(path))
        {
            if (options.CreateBytes <= 0)
            {
                throw new DriveException($"drive {path} does not exist (give a size to create it)");
            }
            string? dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
            if (dir != null)
            {
                Directory.CreateDirectory(dir);
            }
            using (FileStream fs = new(path, FileMode.CreateNew, FileAccess.Write))
            {
                fs.SetLength(options.CreateBytes);
            }
            log($"created drive file {path} ({options.CreateBytes} bytes, sparse)");
        }

        bool direct = true;
        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC | Libc.O_DIRECT, 0);
        if (fd < 0 && Marshal.GetLastPInvokeError() == Libc.EINVAL)
        {
            direct = false;
            fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
            log($"drive {path}: the file system refuses O_DIRECT; using the page cache (flushes still fdatasync)");
        }
        if (fd < 0)
        {
            throw new DriveException($"cannot open drive {path}: errno {Marshal.GetLastPInvokeError()}");
        }
        int crcFd = -1;
        try
        {
            long sizeBytes = Libc.LSeek(fd, 0, Libc.SEEK_END);
            if (sizeBytes < 0)
            {
                throw new DriveException($"cannot size drive {path}: errno {Marshal.GetLastPInvokeError()}");
            }
            Superblock superblock = LoadOrFormat(path, fd, sizeBytes, options, log);
            if (!superblock.HasChecksums)
            {
                log($"drive {path}: format {superblock.FormatVersion} has no block checksums; served without them");
            }
            else if (direct)
            {
                crcFd = Libc.Open(path, Libc.O_RDWR | Libc.O_CLOEXEC, 0);
                if (crcFd < 0)
                {
                    throw new DriveException($"cannot open drive {path} for its checksum tables: errno {Marshal.GetLastPInvokeError()}");
                }
            }
            var store = new DriveStore(path, fd, crcFd < 0 ? fd : crcFd, direct, superblock, options.MaxIoBytes);
            store.LoadSegments(log);
            return store;
        }
        catch
        {
            if (crcFd >= 0)
            {
                Libc.Close(crcFd);
            }
            Libc.Close(fd);
            throw;
        }
    }

    private static Superblock LoadOrFormat(string path, int fd, long sizeBytes, DriveOpenOptions options, Action<string> log)
    {
        using var block = new BlockMemory(Superblock.Size, 1);
        ReadExact(fd, block.Pointer(0), Superblock.Size, 0, path);
        Superblock.Verdict verdict = Superblock.TryDecode(block.Span(0), out Superblock? existing);
        if (verdict == Superblock.Verdict.Valid && existing!.ClusterId == options.ClusterId && !options.ForceFormat)
        {
            log($"drive {path}: cluster {existing.ClusterId}, drive {existing.DriveId}, {existing.SegmentCount} segments of {existing.SegmentBytes} bytes");
            return existing;
        }
        if (!options.ForceFormat)
        {
            switch (verdict)
            {
                case Superblock.Verdict.Valid:
                    throw new DriveException($"drive {path} belongs to cluster {existing!.ClusterId}, not {options.ClusterId}; refusing to reformat it without --force-format");
                case Superblock.Verdict.Foreign:
                    throw new DriveException($"drive {path} holds data that is not a Shoal superblock; refusing to format it without --force-format");
                case Superblock.Verdict.UnknownVersion:
                    throw new DriveException($"drive {path} has a Shoal format this build does not know; refusing to touch it");
            }
        }

        Superblock fresh = Superblock.Plan(options.ClusterId, Guid.NewGuid(), sizeBytes, options.SegmentBytes, options.RegionBytes, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), options.Checksums);
        if (fresh.HasChecksums && verdict != Superblock.Verdict.Blank)
        {
            // A blank CRC table says "never written: all zeros". Over old bytes (a forced format), zero the data
            // area first; where the drive cannot punch holes, never-written blocks read as corrupt until written.
            long dataBytes = fresh.SegmentCount * fresh.SegmentBytes;
            if (Libc.FAllocate(fd, Libc.FALLOC_FL_PUNCH_HOLE | Libc.FALLOC_FL_KEEP_SIZE, fresh.DataOffset, dataBytes) != 0)
            {
                log($"drive {path}: cannot zero the old data area (errno {Marshal.GetLastPInvokeError()}); blocks never written since this format fail their checksum until written");
            }
        }
        // Metadata and CRC tables first (all blocks blank = all segments free, every block never written), superblock
        // last: a crash mid-format leaves no valid superblock.
        long metaBytes = fresh.DataOffset - fresh.MetaOffset;
        using (var zeros = new BlockMemory(1 << 20, 1))
        {
            zeros.Span(0).Clear();
            for (long done = 0; done < metaBytes; done += 1 << 20)
            {
                int n = (int)Math.Min(1 << 20, metaBytes - done);
                WriteExact(fd, zeros.Pointer(0), n, fresh.MetaOffset + done, path);
            }
        }
        fresh.Encode(block.Span(0));
        WriteExact(fd, block.Pointer(0), Superblock.Size, 0, path);
        if (Libc.FDataSync(fd) != 0)
        {
            throw new DriveException($"drive {path}: fdatasync after format failed: errno {Marshal.GetLastPInvokeError()}");
        }
        log($"drive {path}: formatted for cluster {fresh.ClusterId} as drive {fresh.DriveId}, {fresh.SegmentCount} segments of {fresh.SegmentBytes} bytes, format {fresh.FormatVersion}{(fresh.HasChecksums ? " (block checksums)" : " (no block checksums)")}");
        return fresh;
    }

    private void LoadSegments(Action<string> log)
    {
        byte* meta = _scratch.Pointer(0);
        Span<ulong> bitmap = stackalloc ulong[(Superblock.RegionsPerSegment + 63) / 64];
        foreach (DriveSegment seg in _segments)
        {
            ReadExact(_fd, meta, SegmentMeta.Size, Superblock.SegmentMetaOffset(seg.Index), Path);
            if (SegmentMeta.TryDecode(new ReadOnlySpan<byte>(meta, SegmentMeta.Size), out ulong volume, out ulong epoch, out ulong writer, out uint leg, bitmap))
            {
                seg.VolumeId = volume;
                seg.Epoch = epoch;
                seg.WriterId = writer;
                seg.LegIndex = leg;
                bitmap.CopyTo(seg.Bitmap);
                if (volume != 0 && Checksums && !LoadChecksums(seg))
                {
                    throw new DriveException($"drive {Path}: cannot read segment {seg.Index}'s checksum table");
                }
            }
            else
            {
                seg.Corrupt = true;
                log($"drive {Path}: segment {seg.Index} metadata fails its checksum; it serves no I/O until re-fenced with force");
            }
        }
    }

    public DriveSegment? Segment(uint index) => index < (uint)_segments.Length ? _segments[index] : null;

    /// <summary>Checks owner, epoch and (for writes) writer. Call under the segment's gate.</summary>
    private static WireStatus CheckFence(DriveSegment seg, ulong volumeId, ulong epoch, ulong writerId, bool write)
    {
        if (seg.Corrupt || seg.VolumeId == 0 || seg.VolumeId != volumeId)
        {
            return WireStatus.Permission;
        }
        if (epoch < seg.Epoch)
        {
            return WireStatus.StaleEpoch;
        }
        if (epoch > seg.Epoch)
        {
            return WireStatus.EpochAhead;
        }
        if (write && writerId != seg.WriterId)
        {
            return WireStatus.Permission;
        }
        return WireStatus.Ok;
    }

    private WireStatus CheckRange(ulong offsetBytes, uint lengthBytes)
    {
        if (lengthBytes == 0 || lengthBytes > _maxIoBytes || offsetBytes > (ulong)Superblock.SegmentBytes
            || offsetBytes + lengthBytes > (ulong)Superblock.SegmentBytes)
        {
            return WireStatus.Invalid;
        }
        return WireStatus.Ok;
    }

    public WireStatus Read(uint segment, ulong volumeId, ulong epoch, ulong writerId, ulong offsetBytes, uint lengthBytes, byte* destination)
    {
        DriveSegment? seg = Segment(segment);
        if (seg == null)
        {
            return WireStatus.NotFound;
        }
        WireStatus status = CheckRange(offsetBytes, lengthBytes);
        if (status != WireStatus.Ok)
        {
            return status;
        }
        lock (seg.Gate)
        {
            status = CheckFence(seg, volumeId, epoch, writerId, write: false);
        }
        if (status != WireStatus.Ok)
        {
            return status;
        }
        return seg.Crcs is { } crcs
            ? ReadVerified(seg, crcs, (long)offsetBytes, (int)lengthBytes, destination)
            : ReadData(Superblock.SegmentDataOffset(seg.Index) + (long)offsetBytes, (int)lengthBytes, destination);
    }

    /// <summary>Writes data (or zeroes when <paramref name="source"/> is null) after the fence check and the durable intent mark.</summary>
    public WireStatus Write(uint segment, ulong volumeId, ulong epoch, ulong writerId, ulong offsetBytes, uint lengthBytes, byte* source, bool fua, bool markIntent)
    {
        DriveSegment? seg = Segment(segment);
        if (seg == null)
        {
            return WireStatus.NotFound;
        }
        WireStatus status = CheckRange(offsetBytes, lengthBytes);
        if (status != WireStatus.Ok)
        {
            return status;
        }
        int generation;
        lock (seg.Gate)
        {
            status = CheckFence(seg, volumeId, epoch, writerId, write: true);
            if (status != WireStatus.Ok)
            {
                return status;
            }
            generation = seg.EnterWrite();
        }
        try
        {
            if (markIntent)
            {
                status = MarkIntent(seg, offsetBytes, lengthBytes);
                if (status != WireStatus.Ok)
                {
                    return status;
                }
            }
            status = source == null ? WriteZeroes(seg, (long)offsetBytes, (int)lengthBytes) : WriteBlocks(seg, (long)offsetBytes, (int)lengthBytes, source);
            if (status == WireStatus.Ok && fua && Libc.FDataSync(_fd) != 0)
            {
                status = CountError();
            }
            return status;
        }
        finally
        {
            seg.ExitWrite(generation);
        }
    }

    public WireStatus Flush() => Libc.FDataSync(_fd) == 0 ? WireStatus.Ok : CountError();

    /// <summary>
    /// Sets a segment's owner, leg, epoch and writer, durably, then waits until every write admitted
    /// under the previous fence has finished. Epochs never go back; a segment owned by another volume
    /// is only taken with <paramref name="force"/>. Volume 0 frees the segment.
    /// </summary>
    public WireStatus Fence(uint segment, ulong volumeId, uint legIndex, ulong epoch, ulong writerId, bool force, TimeSpan drainTimeout)
    {
        DriveSegment? seg = Segment(segment);
        if (seg == null)
        {
            return WireStatus.NotFound;
        }
        lock (seg.FenceGate)
        {
            if (volumeId != 0 && Checksums && seg.Crcs == null && !LoadChecksums(seg))
            {
                return CountError();
            }
            int previousGeneration;
            lock (seg.Gate)
            {
                bool owned = seg.VolumeId != 0 && !seg.Corrupt;
                if (!force && seg.Corrupt)
                {
                    return WireStatus.Permission;
                }
                if (!force && owned && volumeId != 0 && seg.VolumeId != volumeId)
                {
                    return WireStatus.Permission;
                }
                if (!force && owned && seg.VolumeId == volumeId && epoch < seg.Epoch)
                {
                    return WireStatus.StaleEpoch;
                }
                bool sameOwner = owned && seg.VolumeId == volumeId;
                ReadOnlySpan<ulong> bitmap = sameOwner ? seg.Bitmap : stackalloc ulong[seg.Bitmap.Length];
                if (volumeId == 0)
                {
                    epoch = 0;
                    writerId = 0;
                    legIndex = 0;
                }
                WireStatus persisted = PersistMeta(seg.Index, volumeId, epoch, writerId, legIndex, bitmap, seg.RegionCount);
                if (persisted != WireStatus.Ok)
                {
                    return persisted;
                }
                if (!sameOwner)
                {
                    Array.Clear(seg.Bitmap);
                }
                seg.VolumeId = volumeId;
                seg.Epoch = epoch;
                seg.WriterId = writerId;
                seg.LegIndex = legIndex;
                seg.Corrupt = false;
                previousGeneration = seg.Generation;
                seg.Generation++;
            }
            long deadline = Environment.TickCount64 + (long)drainTimeout.TotalMilliseconds;
            var spin = default(SpinWait);
            while (seg.InflightOf(previousGeneration) != 0)
            {
                if (Environment.TickCount64 > deadline)
                {
                    return WireStatus.IoError;
                }
                spin.SpinOnce();
            }
            return WireStatus.Ok;
        }
    }

    /// <summary>Clears write-intent bits (a bitmap of regions) once every leg is known to hold them.</summary>
    public WireStatus ClearIntent(uint segment, ulong volumeId, ulong epoch, ReadOnlySpan<ulong> clearMask)
    {
        DriveSegment? seg = Segment(segment);
        if (seg == null)
        {
            return WireStatus.NotFound;
        }
        lock (seg.Gate)
        {
            WireStatus status = CheckFence(seg, volumeId, epoch, seg.WriterId, write: false);
            if (status != WireStatus.Ok)
            {
                return status;
            }
            bool changed = false;
            for (int i = 0; i < seg.Bitmap.Length && i < clearMask.Length; i++)
            {
                ulong next = seg.Bitmap[i] & ~clearMask[i];
                changed |= next != seg.Bitmap[i];
                seg.Bitmap[i] = next;
            }
            return changed ? PersistMeta(seg.Index, seg.VolumeId, seg.Epoch, seg.WriterId, seg.LegIndex, seg.Bitmap, seg.RegionCount) : WireStatus.Ok;
        }
    }

    private WireStatus MarkIntent(DriveSegment seg, ulong offsetBytes, uint lengthBytes)
    {
        int first = (int)(offsetBytes / (ulong)Superblock.RegionBytes);
        int last = (int)((offsetBytes + lengthBytes - 1) / (ulong)Superblock.RegionBytes);
        if (AllSet(seg, first, last))
        {
            return WireStatus.Ok;
        }
        lock (seg.Gate)
        {
            if (AllSet(seg, first, last))
            {
                return WireStatus.Ok;
            }
            for (int r = first; r <= last; r++)
            {
                seg.Bitmap[r >> 6] |= 1UL << (r & 63);
            }
            return PersistMeta(seg.Index, seg.VolumeId, seg.Epoch, seg.WriterId, seg.LegIndex, seg.Bitmap, seg.RegionCount);
        }
    }

    private static bool AllSet(DriveSegment seg, int first, int last)
    {
        for (int r = first; r <= last; r++)
        {
            if ((Volatile.Read(ref seg.Bitmap[r >> 6]) & (1UL << (r & 63))) == 0)
            {
                return false;
            }
        }
        return true;
    }

    private WireStatus PersistMeta(int segment, ulong volumeId, ulong epoch, ulong writerId, uint legIndex, ReadOnlySpan<ulong> bitmap, int regionCount)
    {
        lock (_metaGate)
        {
            byte* block = _scratch.Pointer(0);
            SegmentMeta.Encode(new Span<byte>(block, SegmentMeta.Size), volumeId, epoch, writerId, legIndex, bitmap, regionCount);
            if (Libc.PWrite(_fd, block, SegmentMeta.Size, Superblock.SegmentMetaOffset(segment)) != SegmentMeta.Size || Libc.FDataSync(_fd) != 0)
            {
                return CountError();
            }
            return WireStatus.Ok;
        }
    }

    private static bool Aligned(long fileOffset, int length, byte* buffer) =>
        ((fileOffset | (long)length | (long)buffer) & (SectorBytes - 1)) == 0;

    /// <summary>The whole sectors that cover [fileOffset, fileOffset + length).</summary>
    private static (long Start, int Span) SectorSpan(long fileOffset, int length)
    {
        long start = fileOffset & ~(long)(SectorBytes - 1);
        return (start, (int)(((fileOffset + length + SectorBytes - 1) & ~(long)(SectorBytes - 1)) - start));
    }

    private WireStatus ReadData(long fileOffset, int length, byte* destination)
    {
        if (!Direct || Aligned(fileOffset, length, destination))
        {
            return Libc.PRead(_fd, destination, (nuint)length, fileOffset) == length ? WireStatus.Ok : CountError();
        }
        (long start, int span) = SectorSpan(fileOffset, length);
        lock (_bounceGate)
        {
            byte* bounce = _scratch.Pointer(1);
            if (Libc.PRead(_fd, bounce, (nuint)span, start) != span)
            {
                return CountError();
            }
            Buffer.MemoryCopy(bounce + (fileOffset - start), destination, length, length);
            return WireStatus.Ok;
        }
    }

    private WireStatus WriteData(long fileOffset, int length, byte* source)
    {
        if (!Direct || Aligned(fileOffset, length, source))
        {
            return Libc.PWrite(_fd, source, (nuint)length, fileOffset) == length ? WireStatus.Ok : CountError();
        }
        // O_DIRECT needs whole aligned sectors: read-modify-write through the bounce buffer.
        (long start, int span) = SectorSpan(fileOffset, length);
        lock (_bounceGate)
        {
            byte* bounce = _scratch.Pointer(1);
            if (Libc.PRead(_fd, bounce, (nuint)span, start) != span)
            {
                return CountError();
            }
            Buffer.MemoryCopy(source, bounce + (fileOffset - start), length, length);
            return Libc.PWrite(_fd, bounce, (nuint)span, start) == span ? WireStatus.Ok : CountError();
        }
    }

    private WireStatus WriteZeroes(DriveSegment seg, long offsetBytes, int length)
    {
        byte* zeros = _scratch.Pointer(2);
        int chunk = _scratch.BufferBytes - (2 * SectorBytes);
        for (int done = 0; done < length; done += chunk)
        {
            WireStatus status = WriteBlocks(seg, offsetBytes + done, Math.Min(chunk, length - done), zeros);
            if (status != WireStatus.Ok)
            {
                return status;
            }
        }
        return WireStatus.Ok;
    }

    /// <summary>Reads a segment's CRC table into memory (once: it stays while the drive is open).</summary>
    private bool LoadChecksums(DriveSegment seg)
    {
        uint[] crcs = new uint[Superblock.SegmentBytes / BlockChecksums.BlockBytes];
        int bytes = crcs.Length * sizeof(uint);
        fixed (uint* table = crcs)
        {
            if (Libc.PRead(_crcFd, table, (nuint)bytes, Superblock.SegmentChecksumOffset(seg.Index)) != bytes)
            {
                return false;
            }
        }
        seg.Crcs = crcs;
        return true;
    }

    /// <summary>
    /// Reads a range and verifies every 4 KiB block it touches against the segment's CRC table. A block that fails is
    /// read once more before it is declared corrupt (a write to it may have landed its data but not yet its CRC).
    /// </summary>
    private WireStatus ReadVerified(DriveSegment seg, uint[] crcs, long offsetBytes, int length, byte* destination)
    {
        long fileOffset = Superblock.SegmentDataOffset(seg.Index) + offsetBytes;
        if (BlockAligned(offsetBytes, length) && (!Direct || ((long)destination & (SectorBytes - 1)) == 0))
        {
            int firstBlock = (int)(offsetBytes / BlockChecksums.BlockBytes);
            for (int attempt = 0; ; attempt++)
            {
                if (Libc.PRead(_fd, destination, (nuint)length, fileOffset) != length)
                {
                    return CountError();
                }
                if (FirstBadBlock(seg, crcs, firstBlock, length / BlockChecksums.BlockBytes, destination) < 0)
                {
                    return WireStatus.Ok;
                }
                if (attempt > 0)
                {
                    return CountCorrupt();
                }
            }
        }
        (long start, int span) = SectorSpan(fileOffset, length);
        int coverFirst = (int)((start - Superblock.SegmentDataOffset(seg.Index)) / BlockChecksums.BlockBytes);
        lock (_bounceGate)
        {
            byte* bounce = _scratch.Pointer(1);
            for (int attempt = 0; ; attempt++)
            {
                if (Libc.PRead(_fd, bounce, (nuint)span, start) != span)
                {
                    return CountError();
                }
                if (FirstBadBlock(seg, crcs, coverFirst, span / BlockChecksums.BlockBytes, bounce) < 0)
                {
                    break;
                }
                if (attempt > 0)
                {
                    return CountCorrupt();
                }
            }
            Buffer.MemoryCopy(bounce + (fileOffset - start), destination, length, length);
            return WireStatus.Ok;
        }
    }

    private static int FirstBadBlock(DriveSegment seg, uint[] crcs, int firstBlock, int blocks, byte* data)
    {
        for (int i = 0; i < blocks; i++)
        {
            var block = new ReadOnlySpan<byte>(data + ((long)i * BlockChecksums.BlockBytes), BlockChecksums.BlockBytes);
            if (!BlockChecksums.Verify(Volatile.Read(ref crcs[firstBlock + i]), seg.Index, firstBlock + i, block))
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Writes a range and, on a drive with checksums, the CRCs of the blocks it covers: data first, then the table
    /// (memory, then the page cache). A write that covers part of a block reads the block, checks it (new CRCs over
    /// corrupt old bytes would hide the corruption) and writes it whole.
    /// </summary>
    private WireStatus WriteBlocks(DriveSegment seg, long offsetBytes, int length, byte* source)
    {
        long fileOffset = Superblock.SegmentDataOffset(seg.Index) + offsetBytes;
        if (seg.Crcs is not { } crcs)
        {
            return WriteData(fileOffset, length, source);
        }
        const int StackBlocks = 256;
        if (BlockAligned(offsetBytes, length))
        {
            int blocks = length / BlockChecksums.BlockBytes;
            int firstBlock = (int)(offsetBytes / BlockChecksums.BlockBytes);
            Span<uint> fresh = blocks <= StackBlocks ? stackalloc uint[StackBlocks] : new uint[blocks];
            ComputeBlocks(seg, firstBlock, blocks, source, fresh);
            WireStatus status = WriteData(fileOffset, length, source);
            return status == WireStatus.Ok ? StoreChecksums(seg, crcs, firstBlock, fresh[..blocks]) : status;
        }
        (long start, int span) = SectorSpan(fileOffset, length);
        int coverFirst = (int)((start - Superblock.SegmentDataOffset(seg.Index)) / BlockChecksums.BlockBytes);
        int coverBlocks = span / BlockChecksums.BlockBytes;
        Span<uint> covered = coverBlocks <= StackBlocks ? stackalloc uint[StackBlocks] : new uint[coverBlocks];
        lock (_bounceGate)
        {
            byte* bounce = _scratch.Pointer(1);
            if (Libc.PRead(_fd, bounce, (nuint)span, start) != span)
            {
                return CountError();
            }
            // Only the first and last covering blocks keep old bytes.
            int lastOffset = span - BlockChecksums.BlockBytes;
            if (FirstBadBlock(seg, crcs, coverFirst, 1, bounce) >= 0
                || FirstBadBlock(seg, crcs, coverFirst + (coverBlocks - 1), 1, bounce + lastOffset) >= 0)
            {
                return CountCorrupt();
            }
            Buffer.MemoryCopy(source, bounce + (fileOffset - start), length, length);
            ComputeBlocks(seg, coverFirst, coverBlocks, bounce, covered);
            if (Libc.PWrite(_fd, bounce, (nuint)span, start) != span)
            {
                return CountError();
            }
            return StoreChecksums(seg, crcs, coverFirst, covered[..coverBlocks]);
        }
    }

    private static void ComputeBlocks(DriveSegment seg, int firstBlock, int blocks, byte* data, Span<uint> crcs)
    {
        for (int i = 0; i < blocks; i++)
        {
            crcs[i] = BlockChecksums.Compute(seg.Index, firstBlock + i, new ReadOnlySpan<byte>(data + ((long)i * BlockChecksums.BlockBytes), BlockChecksums.BlockBytes));
        }
    }

    /// <summary>Installs new CRCs in the in-memory table and writes that slice of the table (durable with the next flush, like the data).</summary>
    private WireStatus StoreChecksums(DriveSegment seg, uint[] crcs, int firstBlock, ReadOnlySpan<uint> fresh)
    {
        for (int i = 0; i < fresh.Length; i++)
        {
            Volatile.Write(ref crcs[firstBlock + i], fresh[i]);
        }
        int bytes = fresh.Length * sizeof(uint);
        fixed (uint* slice = &crcs[firstBlock])
        {
            long tableOffset = Superblock.SegmentChecksumOffset(seg.Index) + ((long)firstBlock * sizeof(uint));
            return Libc.PWrite(_crcFd, slice, (nuint)bytes, tableOffset) == bytes ? WireStatus.Ok : CountError();
        }
    }

    private static bool BlockAligned(long offsetBytes, int length) => ((offsetBytes | (long)length) & (BlockChecksums.BlockBytes - 1)) == 0;

    private WireStatus CountCorrupt()
    {
        Interlocked.Increment(ref Counters.ChecksumFailures);
        return WireStatus.Corrupt;
    }

    private WireStatus CountError()
    {
        Interlocked.Increment(ref _ioErrors);
        return WireStatus.IoError;
    }

    private static void ReadExact(int fd, byte* buffer, int length, long offset, string path)
    {
        if (Libc.PRead(fd, buffer, (nuint)length, offset) != length)
        {
            throw new DriveException($"drive {path}: cannot read {length} bytes at {offset}: errno {Marshal.GetLastPInvokeError()} (too small?)");
        }
    }

    private static void WriteExact(int fd, byte* buffer, int length, long offset, string path)
    {
        if (Libc.PWrite(fd, buffer, (nuint)length, offset) != length)
        {
            throw new DriveException($"drive {path}: cannot write {length} bytes at {offset}: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            if (_crcFd != _fd)
            {
                Libc.Close(_crcFd);
            }
            Libc.Close(_fd);
            _scratch.Dispose();
        }
    }
}
