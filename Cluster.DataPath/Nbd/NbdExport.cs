using Shoal.DataPath.Volume;

namespace Shoal.DataPath.Nbd;

/// <summary>A volume offered over NBD under a name.</summary>
public sealed record NbdExport(string Name, VolumeEngine Engine, bool ReadOnly = false, string Description = "");
