using System.Buffers.Binary;

namespace Shoal.DataPath.Wire;

/// <summary>
/// The fixed 80-byte header of every wire protocol v1 frame, little-endian:
/// <code>
///  0 u32 magic 'SHW1'     4 u8 op   5 u8 flags   6 u16 status
///  8 u64 requestId       16 u64 volumeId        24 u64 epoch
/// 32 u64 writerId        40 u64 offsetBytes (in the segment)
/// 48 u32 lengthBytes     52 u32 payloadBytes    56 u32 driveIndex   60 u32 segmentIndex
/// 64 u32 legIndex        68 u32 reserved (0)    72 u32 headerCrc    76 u32 payloadCrc
/// </code>
/// The header CRC32C covers bytes 0..72 so a receiver can trust payloadBytes before reading the
/// payload; the payload CRC32C covers the payload. Both ends check both (TigerBeetle-style pairs).
/// </summary>
public struct WireHeader
{
    public const int Size = 80;
    public const uint Magic = 0x31574853; // "SHW1"

    /// <summary>Largest payload any frame may carry; a header announcing more is rejected unread.</summary>
    public const int MaxPayloadBytes = 1 << 20;

    public WireOp Op;
    public WireFlags Flags;
    public WireStatus Status;
    public ulong RequestId;
    public ulong VolumeId;
    public ulong Epoch;
    public ulong WriterId;
    public ulong OffsetBytes;
    public uint LengthBytes;
    public uint PayloadBytes;
    public uint DriveIndex;
    public uint SegmentIndex;
    public uint LegIndex;
    public uint PayloadCrc;

    public readonly bool IsReply => (Flags & WireFlags.Reply) != 0;

    /// <summary>Writes the header with its header CRC. <see cref="PayloadCrc"/> must already be set.</summary>
    public readonly void Encode(Span<byte> destination)
    {
        Span<byte> d = destination[..Size];
        BinaryPrimitives.WriteUInt32LittleEndian(d, Magic);
        d[4] = (byte)Op;
        d[5] = (byte)Flags;
        BinaryPrimitives.WriteUInt16LittleEndian(d[6..], (ushort)Status);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], RequestId);
        BinaryPrimitives.WriteUInt64LittleEndian(d[16..], VolumeId);
        BinaryPrimitives.WriteUInt64LittleEndian(d[24..], Epoch);
        BinaryPrimitives.WriteUInt64LittleEndian(d[32..], WriterId);
        BinaryPrimitives.WriteUInt64LittleEndian(d[40..], OffsetBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(d[48..], LengthBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(d[52..], PayloadBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(d[56..], DriveIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(d[60..], SegmentIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(d[64..], LegIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(d[68..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(d[72..], Checksum.Crc32C(d[..72]));
        BinaryPrimitives.WriteUInt32LittleEndian(d[76..], PayloadCrc);
    }

    /// <summary>
    /// Parses and checks a header. Returns <see cref="WireStatus.Ok"/>, <see cref="WireStatus.Invalid"/>
    /// (bad magic, reserved bits, oversized payload) or <see cref="WireStatus.BadChecksum"/>.
    /// A header that fails is never acted on.
    /// </summary>
    public static WireStatus TryDecode(ReadOnlySpan<byte> source, out WireHeader header)
    {
        header = default;
        if (source.Length < Size)
        {
            return WireStatus.Invalid;
        }
        ReadOnlySpan<byte> s = source[..Size];
        if (BinaryPrimitives.ReadUInt32LittleEndian(s) != Magic)
        {
            return WireStatus.Invalid;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(s[72..]) != Checksum.Crc32C(s[..72]))
        {
            return WireStatus.BadChecksum;
        }
        header.Op = (WireOp)s[4];
        header.Flags = (WireFlags)s[5];
        header.Status = (WireStatus)BinaryPrimitives.ReadUInt16LittleEndian(s[6..]);
        header.RequestId = BinaryPrimitives.ReadUInt64LittleEndian(s[8..]);
        header.VolumeId = BinaryPrimitives.ReadUInt64LittleEndian(s[16..]);
        header.Epoch = BinaryPrimitives.ReadUInt64LittleEndian(s[24..]);
        header.WriterId = BinaryPrimitives.ReadUInt64LittleEndian(s[32..]);
        header.OffsetBytes = BinaryPrimitives.ReadUInt64LittleEndian(s[40..]);
        header.LengthBytes = BinaryPrimitives.ReadUInt32LittleEndian(s[48..]);
        header.PayloadBytes = BinaryPrimitives.ReadUInt32LittleEndian(s[52..]);
        header.DriveIndex = BinaryPrimitives.ReadUInt32LittleEndian(s[56..]);
        header.SegmentIndex = BinaryPrimitives.ReadUInt32LittleEndian(s[60..]);
        header.LegIndex = BinaryPrimitives.ReadUInt32LittleEndian(s[64..]);
        header.PayloadCrc = BinaryPrimitives.ReadUInt32LittleEndian(s[76..]);
        if (BinaryPrimitives.ReadUInt32LittleEndian(s[68..]) != 0 || header.PayloadBytes > MaxPayloadBytes)
        {
            return WireStatus.Invalid;
        }
        return WireStatus.Ok;
    }
}
