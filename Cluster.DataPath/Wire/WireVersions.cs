namespace Shoal.DataPath.Wire;

/// <summary>
/// The wire protocol's versions and what each one adds. A node speaks every version from
/// <see cref="Handshake.MinVersion"/> to <see cref="Handshake.MaxVersion"/> (or a lower cap it was started with,
/// <c>--wire-protocol</c>); each connection runs at the highest version both ends speak, chosen in the handshake,
/// so a cluster can be upgraded one node at a time across one version step (docs/adr/0005-rolling-upgrades.md).
/// </summary>
public static class WireVersions
{
    /// <summary>The first protocol: frames, operations and statuses up to <see cref="WireStatus.Unsupported"/>.</summary>
    public const ushort V1 = 1;

    /// <summary>
    /// Adds statuses after <see cref="LastV1Status"/> (a target may answer with a status a v1 client has never
    /// heard of, e.g. a checksum-at-rest mismatch). Frames and operations are those of v1.
    /// </summary>
    public const ushort V2 = 2;

    /// <summary>The last status a v1 peer knows; a later one is sent to a v1 session as <see cref="WireStatus.IoError"/>.</summary>
    public const WireStatus LastV1Status = WireStatus.Unsupported;

    /// <summary>
    /// The status as a session at <paramref name="version"/> may see it: a status newer than the session's version is
    /// replaced by the nearest one that version knows (every newer status is a failure of the drive's data, which an
    /// older client treats as an I/O error on that leg). Every new status added to <see cref="WireStatus"/> must be
    /// given its version here.
    /// </summary>
    public static WireStatus ForSession(WireStatus status, ushort version) =>
        version >= V2 || status <= LastV1Status ? status : WireStatus.IoError;
}
