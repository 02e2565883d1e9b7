using Shoal.DataPath.Wire;

namespace Shoal.DataPath.Volume;

/// <summary>
/// One volume I/O in flight, pooled by the engine with its own aligned buffer. The submitter fills
/// the public fields; the engine splits it into chunks and per-leg sub-requests.
/// </summary>
public sealed unsafe class IoRequest
{
    internal IoRequest(int index, byte* buffer, int bufferBytes, int maxChunks, int maxLegs)
    {
        Index = index;
        Buffer = buffer;
        BufferBytes = bufferBytes;
        Chunks = new Chunk[maxChunks];
        ChunkCrcs = new uint[maxChunks];
        Subs = new SubIo[maxChunks * maxLegs + 64];
        for (int i = 0; i < Subs.Length; i++)
        {
            Subs[i] = new SubIo(this);
        }
    }

    internal int Index { get; }

    /// <summary>Page-aligned data buffer of <see cref="BufferBytes"/> bytes: write payload in, read data out.</summary>
    public byte* Buffer { get; }

    public int BufferBytes { get; }

    public IoKind Kind;
    public long OffsetBytes;
    public int LengthBytes;
    public bool Fua;
    public ulong Cookie;
    public IIoCompletion? Owner;

    internal readonly Chunk[] Chunks;

    /// <summary>CRC32C of each write chunk's payload, computed once and sent to every leg.</summary>
    internal readonly uint[] ChunkCrcs;
    internal int ChunkCount;
    internal readonly SubIo[] Subs;
    internal int SubCount;
    internal int Pending;
    internal int Errno;

    /// <summary>Stopwatch timestamp of <see cref="VolumeEngine.Submit"/>, for the latency histograms.</summary>
    internal long SubmittedAt;

    internal SubIo NextSub()
    {
        if (SubCount == Subs.Length)
        {
            throw new InvalidOperationException("sub-request table of an I/O is full");
        }
        return Subs[SubCount++];
    }

    internal void Reset()
    {
        ChunkCount = 0;
        SubCount = 0;
        Pending = 0;
        Errno = 0;
        Owner = null;
    }
}

/// <summary>One request to one leg (or, for a flush, one target) on behalf of an <see cref="IoRequest"/>.</summary>
internal sealed class SubIo(IoRequest parent) : Transport.IWireCompletion
{
    public readonly IoRequest Parent = parent;
    public VolumeEngine? Engine;
    public int Chunk;
    public int Group;
    public int Leg;
    public string? FlushTarget;
    public ulong Epoch;
    public int Attempts;
    public int TriedLegs;

    /// <summary>Legs that answered this read <c>Corrupt</c>: repaired once another leg served it.</summary>
    public int CorruptLegs;
    public WireStatus Failure;

    public void OnWireComplete(int tag, WireStatus status, in WireHeader reply) => Engine!.OnSubComplete(this, status);
}
