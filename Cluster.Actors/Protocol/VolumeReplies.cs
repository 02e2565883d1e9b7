namespace Shoal.Actors.Protocol;

// Answers from a volume entity.

/// <summary>The volume's state after the command (and, when the epoch changed, after its legs were fenced).</summary>
public sealed record VolumeStateReply(VolumeView View) : IVolumeReply;

public sealed record VolumeCommandRefused(VolumeName Volume, VolumeRefusal Code, string Reason) : IVolumeReply;
