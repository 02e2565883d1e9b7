using Shoal.Actors.Protocol;

namespace Shoal.Actors.Tests.Simulation;

/// <summary>
/// One segment of a target's drive: its durable metadata (owner, leg, fenced epoch and writer, write-intent bits) and
/// its blocks. A block holds the value of the write that last landed on it (0 before any write); the checker reads
/// these directly. A segment serves one group and leg from the moment the journal says so (at creation, or when a
/// replacement is journaled); a segment on a lost drive answers nothing but I/O errors.
/// </summary>
internal sealed class SimSegment
{
    public SimSegment(DriveId drive, uint index, int blockCount)
    {
        Drive = drive;
        Index = index;
        Blocks = new long[blockCount];
    }

    public DriveId Drive { get; }

    /// <summary>Its number on its target (the segment index requests carry).</summary>
    public uint Index { get; }

    /// <summary>The group this segment serves, or -1 while it is a spare.</summary>
    public int Group { get; private set; } = -1;

    public int Leg { get; private set; } = -1;

    public bool Lost { get; set; }

    public ulong VolumeUid { get; set; }

    public uint LegIndex { get; set; }

    public ulong Epoch { get; set; }

    public ulong Writer { get; set; }

    /// <summary>One bit per region written since the bits were last cleared.</summary>
    public ulong IntentMask { get; set; }

    public long[] Blocks { get; }

    public void Assign(int group, int leg)
    {
        Group = group;
        Leg = leg;
    }
}
