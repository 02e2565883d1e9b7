namespace Shoal.DataPath.Wire;

/// <summary>Outcome of a wire request, carried in every reply header.</summary>
public enum WireStatus : ushort
{
    Ok = 0,

    /// <summary>The request's epoch is older than the segment's fence: the sender is a stale writer.</summary>
    StaleEpoch = 1,

    /// <summary>The request's epoch is newer than the segment's fence: the target has not been told yet.</summary>
    EpochAhead = 2,

    /// <summary>The sender is not the segment's writer, or the segment belongs to another volume.</summary>
    Permission = 3,

    /// <summary>Malformed request, or a range outside the segment.</summary>
    Invalid = 4,

    /// <summary>The drive failed the I/O.</summary>
    IoError = 5,

    /// <summary>The connection has not completed the cluster-key handshake.</summary>
    Unauthenticated = 6,

    /// <summary>Header or payload CRC32C mismatch.</summary>
    BadChecksum = 7,

    /// <summary>No such drive or segment on this target.</summary>
    NotFound = 8,

    /// <summary>Unknown operation or unsupported protocol version.</summary>
    Unsupported = 9,

    /// <summary>
    /// A block of the range fails its stored checksum (bit rot, a torn or misdirected write): no data is sent. The
    /// client reads the range from another leg and repairs this one. A client that predates checksums treats it as
    /// a failed leg, which is also safe.
    /// </summary>
    Corrupt = 10,
}
