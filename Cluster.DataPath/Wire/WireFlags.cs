namespace Shoal.DataPath.Wire;

[Flags]
public enum WireFlags : byte
{
    None = 0,
    Reply = 1,

    /// <summary>Write: durable on the drive before the reply (NBD FUA).</summary>
    Fua = 2,

    /// <summary>Write: do not mark the write-intent bitmap (resync copies into a rebuilding leg).</summary>
    NoIntent = 4,

    /// <summary>Fence: take a segment that is corrupt or owned by another volume.</summary>
    Force = 8,
}
