using System.Buffers.Binary;

namespace Shoal.DataPath.Drives;

/// <summary>
/// The first 4 KiB of every Shoal drive, checksummed:
/// <code>
///  0 u64 magic "SHOALDRV"   8 u32 formatVersion   12 u32 reserved
/// 16 clusterId (16)        32 driveId (16)
/// 48 u64 segmentBytes      56 u32 segmentCount    60 u32 regionBytes
/// 64 u64 metaOffset        72 u64 dataOffset      80 i64 createdUnixMs
/// 88 u64 checksumOffset (format 2 only: the per-segment block CRC tables, see <see cref="BlockChecksums"/>)
/// 4092 u32 CRC32C of bytes 0..4092
/// </code>
/// Format 1 drives (before checksums at rest) have no CRC tables and are served without block checksums;
/// format 2 adds the tables between the segment metadata and the data. A build reads both.
/// </summary>
public sealed record Superblock(
    Guid ClusterId,
    Guid DriveId,
    long SegmentBytes,
    int SegmentCount,
    int RegionBytes,
    long MetaOffset,
    long DataOffset,
    long CreatedUnixMs,
    long ChecksumOffset = 0)
{
    public const int Size = 4096;
    public const ulong Magic = 0x5652444C414F4853; // "SHOALDRV"
    /// <summary>Format without block checksums (every drive formatted before checksums at rest).</summary>
    public const uint FormatVersionPlain = 1;

    /// <summary>Format with a CRC32C per 4 KiB block, stored in per-segment tables.</summary>
    public const uint FormatVersionChecksums = 2;
    public const long DataAlignment = 1 << 20;

    public int RegionsPerSegment => (int)(SegmentBytes / RegionBytes);

    /// <summary>True when the drive stores a CRC32C per 4 KiB block (format 2).</summary>
    public bool HasChecksums => ChecksumOffset != 0;

    public uint FormatVersion => HasChecksums ? FormatVersionChecksums : FormatVersionPlain;

    /// <summary>Bytes of one segment's CRC table: 4 per block, rounded up to whole 4 KiB blocks.</summary>
    public long ChecksumTableBytes => BlockChecksums.TableBytes(SegmentBytes);

    public long SegmentChecksumOffset(int segment) => ChecksumOffset + (segment * ChecksumTableBytes);

    public long SegmentDataOffset(int segment) => DataOffset + (segment * SegmentBytes);

    public long SegmentMetaOffset(int segment) => MetaOffset + ((long)segment * SegmentMeta.Size);

    /// <summary>
    /// Lays out a drive of the given size: as many whole segments as fit after the metadata area (and, with
    /// <paramref name="checksums"/>, after the segments' CRC tables, which follow the metadata blocks).
    /// </summary>
    public static Superblock Plan(Guid clusterId, Guid driveId, long driveBytes, long segmentBytes, int regionBytes, long nowUnixMs, bool checksums = true)
    {
        if (segmentBytes <= 0 || segmentBytes % DataAlignment != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(segmentBytes), segmentBytes, "segment size must be a positive multiple of 1 MiB");
        }
        if (regionBytes <= 0 || segmentBytes % regionBytes != 0 || regionBytes % 4096 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(regionBytes), regionBytes, "region size must be a multiple of 4 KiB dividing the segment size");
        }
        if (segmentBytes / regionBytes > SegmentMeta.MaxRegions)
        {
            throw new ArgumentOutOfRangeException(nameof(regionBytes), regionBytes, $"at most {SegmentMeta.MaxRegions} regions per segment");
        }
        long metaOffset = Size;
        int count = (int)Math.Min(int.MaxValue, driveBytes / segmentBytes);
        long tableBytes = checksums ? BlockChecksums.TableBytes(segmentBytes) : 0;
        while (count > 0)
        {
            long checksumOffset = metaOffset + ((long)count * SegmentMeta.Size);
            long dataOffset = AlignUp(checksumOffset + (count * tableBytes), DataAlignment);
            if (dataOffset + (count * segmentBytes) <= driveBytes)
            {
                return new Superblock(clusterId, driveId, segmentBytes, count, regionBytes, metaOffset, dataOffset, nowUnixMs, checksums ? checksumOffset : 0);
            }
            count--;
        }
        throw new ArgumentOutOfRangeException(nameof(driveBytes), driveBytes, $"drive too small for one {segmentBytes}-byte segment");
    }

    public void Encode(Span<byte> block)
    {
        block[..Size].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(block, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(block[8..], FormatVersion);
        ClusterId.TryWriteBytes(block[16..32]);
        DriveId.TryWriteBytes(block[32..48]);
        BinaryPrimitives.WriteInt64LittleEndian(block[48..], SegmentBytes);
        BinaryPrimitives.WriteInt32LittleEndian(block[56..], SegmentCount);
        BinaryPrimitives.WriteInt32LittleEndian(block[60..], RegionBytes);
        BinaryPrimitives.WriteInt64LittleEndian(block[64..], MetaOffset);
        BinaryPrimitives.WriteInt64LittleEndian(block[72..], DataOffset);
        BinaryPrimitives.WriteInt64LittleEndian(block[80..], CreatedUnixMs);
        if (HasChecksums)
        {
            BinaryPrimitives.WriteInt64LittleEndian(block[88..], ChecksumOffset);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[4092..], Checksum.Crc32C(block[..4092]));
    }

    public enum Verdict
    {
        Valid,

        /// <summary>All zero: never formatted.</summary>
        Blank,

        /// <summary>Something else lives here (a file system, another tool's data, a torn write).</summary>
        Foreign,

        /// <summary>A Shoal superblock of a format this build does not know.</summary>
        UnknownVersion,
    }

    public static Verdict TryDecode(ReadOnlySpan<byte> block, out Superblock? superblock)
    {
        superblock = null;
        block = block[..Size];
        if (!block.ContainsAnyExcept((byte)0))
        {
            return Verdict.Blank;
        }
        if (BinaryPrimitives.ReadUInt64LittleEndian(block) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(block[4092..]) != Checksum.Crc32C(block[..4092]))
        {
            return Verdict.Foreign;
        }
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(block[8..]);
        if (version is not (FormatVersionPlain or FormatVersionChecksums))
        {
            return Verdict.UnknownVersion;
        }
        superblock = new Superblock(
            new Guid(block[16..32]),
            new Guid(block[32..48]),
            BinaryPrimitives.ReadInt64LittleEndian(block[48..]),
            BinaryPrimitives.ReadInt32LittleEndian(block[56..]),
            BinaryPrimitives.ReadInt32LittleEndian(block[60..]),
            BinaryPrimitives.ReadInt64LittleEndian(block[64..]),
            BinaryPrimitives.ReadInt64LittleEndian(block[72..]),
            BinaryPrimitives.ReadInt64LittleEndian(block[80..]),
            version == FormatVersionChecksums ? BinaryPrimitives.ReadInt64LittleEndian(block[88..]) : 0);
        if (version == FormatVersionChecksums && !superblock.HasChecksums)
        {
            superblock = null;
            return Verdict.Foreign;
        }
        return Verdict.Valid;
    }

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
