namespace Shoal.Actors.Protocol;

/// <summary>Why a volume command was refused; the gateway maps these to HTTP statuses.</summary>
public enum VolumeRefusal
{
    Invalid,
    NotFound,
    Conflict,
    Attached,
    NotWriter,
    LastInSyncLeg,
    NoCapacity,
    Busy,
}
