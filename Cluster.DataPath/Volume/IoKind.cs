namespace Shoal.DataPath.Volume;

public enum IoKind : byte
{
    Read,
    Write,
    WriteZeroes,
    Trim,
    Flush,
}
