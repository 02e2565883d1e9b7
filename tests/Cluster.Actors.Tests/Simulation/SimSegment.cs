namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// One segment of a target's drive: its durable metadata (owner, leg, fenced epoch and writer, write-intent bits) and
/// its blocks. A block holds the value of the write that last landed on it (0 before any write); the checker reads
/// these directly.
/// </summary>
internal sealed class SimSegment
{
    public SimSegment(int group, int leg, int blockCount)
    {
        Group = group;
        Leg = leg;
        Blocks = new long[blockCount];
    }

    /// <summary>The group and leg this segment serves (fixed for the run: the simulation does not replace legs).</summary>
    public int Group { get; }

    public int Leg { get; }

    public ulong VolumeUid { get; set; }

    public uint LegIndex { get; set; }

    public ulong Epoch { get; set; }

    public ulong Writer { get; set; }

    /// <summary>One bit per region written since the bits were last cleared.</summary>
    public ulong IntentMask { get; set; }

    public long[] Blocks { get; }
}
