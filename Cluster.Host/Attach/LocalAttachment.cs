namespace Shoal.Host.Attach;

/// <summary>
/// A volume attached on this host as a block device by <c>shoal attach</c>: what <c>shoal detach</c> and
/// <c>shoal attach --list</c> need to find and undo it. <paramref name="Mode"/> is <c>fuse-loop</c> or <c>nbd</c>;
/// <paramref name="Mount"/>, <paramref name="File"/> and <paramref name="HelperPid"/> are the fuse-loop helper's;
/// <paramref name="DetachVolume"/> is false when the node had the volume attached before (detach leaves it so).
/// </summary>
internal sealed record LocalAttachment(
    string Volume,
    string Mode,
    string Device,
    string NbdUri,
    string Node,
    string Api,
    string Mount,
    string File,
    int HelperPid,
    string HelperLog,
    bool DetachVolume,
    DateTimeOffset Since);
