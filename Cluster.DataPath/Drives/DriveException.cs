namespace Shoal.DataPath.Drives;

/// <summary>A drive cannot be opened, formatted or trusted; the message says why and what to do.</summary>
public sealed class DriveException(string message) : Exception(message);
