namespace Shoal.DataPath.Target;

public sealed record TargetOptions
{
    /// <summary>Bound on concurrent connections; the next one is refused.</summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>How long a receive thread polls for the next frame before it parks in the kernel.</summary>
    public int PollSpinMicros { get; init; } = Shoal.DataPath.Transport.PollPolicy.DefaultSpinMicros;

    /// <summary>A client must finish the handshake within this time.</summary>
    public int HandshakeTimeoutMs { get; init; } = 5000;

    /// <summary>
    /// Highest wire protocol version this target accepts (<c>--wire-protocol</c>): a node pinned to the previous
    /// version, as during a rolling upgrade, serves every client at that version.
    /// </summary>
    public ushort MaxWireVersion { get; init; } = Shoal.DataPath.Wire.Handshake.MaxVersion;

    /// <summary>How long a fence waits for writes admitted under the previous epoch to finish.</summary>
    public int FenceDrainTimeoutMs { get; init; } = 30_000;
}
