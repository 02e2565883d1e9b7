namespace Shoal.Actors.Protocol;

public enum VolumeStatus
{
    /// <summary>Never created (or creation never committed).</summary>
    None,

    /// <summary>Created: serves attachments.</summary>
    Ready,

    /// <summary>Deleted by the operator; its segments are being released on their drives.</summary>
    Deleting,

    /// <summary>Gone. The tombstone stays so a returning target can never bring it back.</summary>
    Deleted,
}
