namespace Shoal.DataPath.Volume;

public sealed record EngineOptions
{
    /// <summary>Largest single I/O (also the NBD maximum block size).</summary>
    public int MaxIoBytes { get; init; } = 1 << 20;

    /// <summary>Bound on I/Os in flight per volume; each owns a buffer of <see cref="MaxIoBytes"/>.</summary>
    public int MaxInflight { get; init; } = 128;

    public int PollSpinMicros { get; init; } = Transport.PollPolicy.DefaultSpinMicros;

    /// <summary>How often stale legs' targets are probed (and returned legs resynced).</summary>
    public int ReprobeIntervalMs { get; init; } = 1000;

    /// <summary>How often the control port is asked for a layout it changed on its own (a replaced leg).</summary>
    public int RefreshIntervalMs { get; init; } = 5000;

    /// <summary>How often the write-intent bits of idle, fully-synced regions are cleared.</summary>
    public int CleanIntervalMs { get; init; } = 2000;

    /// <summary>A region must have seen no write for this long before its intent bit is cleared.</summary>
    public int CleanIdleMs { get; init; } = 1000;

    /// <summary>Resync and rebuild copy rate per volume, in bytes per second (0: unthrottled). The default leaves
    /// most of a 10 GbE link and of an NVMe drive to the application.</summary>
    public long ResyncBytesPerSecond { get; init; } = 200L << 20;

    /// <summary>A rebuild reports its checkpoint to the control plane after every this many bytes of segment.</summary>
    public long CheckpointBytes { get; init; } = 8L << 20;

    /// <summary>Highest wire protocol version this client asks its targets for (<c>--wire-protocol</c>).</summary>
    public ushort MaxWireVersion { get; init; } = Wire.Handshake.MaxVersion;

    /// <summary>Bound on resends of one sub-request after epoch changes.</summary>
    public int MaxAttempts { get; init; } = 8;
}
