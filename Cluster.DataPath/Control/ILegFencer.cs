using Shoal.DataPath.Volume;
using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Control;

/// <summary>Pushes a fence (volume, leg, epoch, writer) to the target holding a leg's segment; durable on the drive when it returns Ok.</summary>
public interface ILegFencer
{
    WireStatus Fence(VolumeLayout layout, int group, int leg, ulong epoch);
}
