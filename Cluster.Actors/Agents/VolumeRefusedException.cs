using Shoal.Actors.Protocol;

namespace Shoal.Actors.Agents;

/// <summary>The volume entity refused a client's attach; <see cref="Code"/> says why.</summary>
public sealed class VolumeRefusedException(VolumeName volume, VolumeRefusal code, string reason)
    : InvalidOperationException($"volume {volume}: attach refused ({code}): {reason}")
{
    public VolumeRefusal Code { get; } = code;

    public string Reason { get; } = reason;
}
