using System.Buffers.Binary;
using System.Security.Cryptography;
using Shoal.DataPath.Transport;

namespace Shoal.DataPath.Wire;

/// <summary>
/// Wire protocol handshake: version negotiation, then a mutual HMAC-SHA256 proof of the cluster key.
/// <code>
/// client → Hello     { u16 minVersion, u16 maxVersion, 32-byte client nonce }
/// target → Challenge { u16 chosenVersion, 32-byte target nonce }      (status Unsupported: no common version)
/// client → Prove     { HMAC(key, "shoal-client" | clientNonce | targetNonce) }
/// target → Welcome   { HMAC(key, "shoal-target" | clientNonce | targetNonce) }  (status Unauthenticated: wrong key)
/// </code>
/// Until the handshake completes the target serves nothing; after a failure it sends one status frame and closes.
/// </summary>
public static class Handshake
{
    /// <summary>The oldest version this build speaks: one step back, so a cluster upgrades one node at a time.</summary>
    public const ushort MinVersion = WireVersions.V1;

    /// <summary>The newest version this build speaks (<see cref="WireVersions"/> says what each adds).</summary>
    public const ushort MaxVersion = WireVersions.V2;
    private const int NonceBytes = 32;

    /// <summary>Client side; returns the negotiated version or throws <see cref="WireException"/>.</summary>
    public static ushort Client(FrameSocket socket, ClusterKey key, ushort minVersion = MinVersion, ushort maxVersion = MaxVersion)
    {
        byte[] clientNonce = RandomNumberGenerator.GetBytes(NonceBytes);
        byte[] hello = new byte[4 + NonceBytes];
        BinaryPrimitives.WriteUInt16LittleEndian(hello, minVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(hello.AsSpan(2), maxVersion);
        clientNonce.CopyTo(hello, 4);
        SendFrame(socket, WireOp.Hello, WireStatus.Ok, hello);

        (WireHeader challenge, byte[] challengePayload) = ReceiveFrame(socket, WireOp.Challenge);
        if (challenge.Status != WireStatus.Ok)
        {
            throw new WireException(challenge.Status, $"target refused the handshake: {challenge.Status}");
        }
        if (challengePayload.Length != 2 + NonceBytes)
        {
            throw new WireException(WireStatus.Invalid, "malformed challenge");
        }
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(challengePayload);
        if (version < minVersion || version > maxVersion)
        {
            throw new WireException(WireStatus.Unsupported, $"target chose protocol version {version}, outside {minVersion}..{maxVersion}");
        }
        byte[] serverNonce = challengePayload[2..];
        SendFrame(socket, WireOp.Prove, WireStatus.Ok, key.Prove("shoal-client", clientNonce, serverNonce));

        (WireHeader welcome, byte[] proof) = ReceiveFrame(socket, WireOp.Welcome);
        if (welcome.Status != WireStatus.Ok)
        {
            throw new WireException(welcome.Status, $"target refused the cluster key: {welcome.Status}");
        }
        if (!CryptographicOperations.FixedTimeEquals(proof, key.Prove("shoal-target", clientNonce, serverNonce)))
        {
            throw new WireException(WireStatus.Unauthenticated, "target failed to prove the cluster key");
        }
        return version;
    }

    /// <summary>
    /// Target side; returns the negotiated version (the highest both speak, at most <paramref name="maxVersion"/>), or
    /// throws after telling the client why.
    /// </summary>
    public static ushort Server(FrameSocket socket, ClusterKey key, ushort maxVersion = MaxVersion)
    {
        (_, byte[] payload) = ReceiveFrame(socket, WireOp.Hello);
        if (payload.Length != 4 + NonceBytes)
        {
            SendFrame(socket, WireOp.Challenge, WireStatus.Invalid, []);
            throw new WireException(WireStatus.Invalid, "malformed hello");
        }
        ushort min = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        ushort max = BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(2));
        ushort chosen = Math.Min(max, maxVersion);
        if (chosen < min || chosen < MinVersion)
        {
            SendFrame(socket, WireOp.Challenge, WireStatus.Unsupported, []);
            throw new WireException(WireStatus.Unsupported, $"client speaks {min}..{max}, target {MinVersion}..{maxVersion}");
        }
        byte[] clientNonce = payload[4..];
        byte[] serverNonce = RandomNumberGenerator.GetBytes(NonceBytes);
        byte[] challenge = new byte[2 + NonceBytes];
        BinaryPrimitives.WriteUInt16LittleEndian(challenge, chosen);
        serverNonce.CopyTo(challenge, 2);
        SendFrame(socket, WireOp.Challenge, WireStatus.Ok, challenge);

        (_, byte[] proof) = ReceiveFrame(socket, WireOp.Prove);
        if (!CryptographicOperations.FixedTimeEquals(proof, key.Prove("shoal-client", clientNonce, serverNonce)))
        {
            throw new WireException(WireStatus.Unauthenticated, "client failed to prove the cluster key");
        }
        SendFrame(socket, WireOp.Welcome, WireStatus.Ok, key.Prove("shoal-target", clientNonce, serverNonce));
        return chosen;
    }

    internal static void SendFrame(FrameSocket socket, WireOp op, WireStatus status, byte[] payload)
    {
        var header = new WireHeader
        {
            Op = op,
            Status = status,
            PayloadBytes = (uint)payload.Length,
            PayloadCrc = Checksum.Crc32C(payload),
        };
        byte[] frame = new byte[WireHeader.Size + payload.Length];
        header.Encode(frame);
        payload.CopyTo(frame, WireHeader.Size);
        if (!socket.Send(frame))
        {
            throw new WireException(WireStatus.IoError, "connection closed during handshake");
        }
    }

    internal static (WireHeader Header, byte[] Payload) ReceiveFrame(FrameSocket socket, WireOp expected)
    {
        byte[] head = new byte[WireHeader.Size];
        if (!socket.ReceiveExact(head))
        {
            throw new WireException(WireStatus.IoError, "connection closed during handshake");
        }
        WireStatus status = WireHeader.TryDecode(head, out WireHeader header);
        if (status != WireStatus.Ok)
        {
            throw new WireException(status, $"bad handshake frame: {status}");
        }
        if (header.Op != expected || header.PayloadBytes > 256)
        {
            throw new WireException(WireStatus.Unauthenticated, $"expected {expected} during handshake, got {header.Op}");
        }
        byte[] payload = new byte[header.PayloadBytes];
        if (!socket.ReceiveExact(payload))
        {
            throw new WireException(WireStatus.IoError, "connection closed during handshake");
        }
        if (Checksum.Crc32C(payload) != header.PayloadCrc)
        {
            throw new WireException(WireStatus.BadChecksum, "handshake payload fails its checksum");
        }
        return (header, payload);
    }
}
