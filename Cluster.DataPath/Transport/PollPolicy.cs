namespace Shoal.DataPath.Transport;

/// <summary>How long receive threads spin before they park, when the operator does not say.</summary>
public static class PollPolicy
{
    /// <summary>Spin window on hosts with cores to spare.</summary>
    public const int SpinMicrosWithSpareCores = 20;

    /// <summary>
    /// Spinning only pays when the spinning thread has a core of its own: on a host with two cores or
    /// fewer, the client, the target and the application share them, and a spinning receive thread
    /// steals the very core its peer needs to answer (measured on a 2-core host: QD1 randread
    /// 9.1K IOPS with a 20 µs spin against 10.4K without, see docs/benchmarks.md). There the
    /// threads park at once.
    /// </summary>
    public static int DefaultSpinMicros => Environment.ProcessorCount > 2 ? SpinMicrosWithSpareCores : 0;
}
