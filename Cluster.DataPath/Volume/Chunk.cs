namespace Shoal.DataPath.Volume;

/// <summary>A piece of a request that lies in one segment group.</summary>
public readonly record struct Chunk(int Group, long SegmentOffsetBytes, int BufferOffsetBytes, int LengthBytes);
