using System.Runtime.InteropServices;

namespace Shoal.DataPath.Memory;

/// <summary>
/// One slab of page-aligned native memory cut into equal buffers, allocated once at start.
/// The pool never grows: when every buffer is out, <see cref="TryRent"/> fails and the caller waits.
/// Aligned so that drive I/O may use O_DIRECT on the buffers as they are.
/// </summary>
public sealed unsafe class BlockMemory : IDisposable
{
    public const int Alignment = 4096;

    private readonly byte* _slab;
    private readonly int[] _free;
    private readonly bool[] _out;
    private int _freeCount;
    private readonly object _gate = new();
    private bool _disposed;

    public BlockMemory(int bufferBytes, int bufferCount)
    {
        if (bufferBytes <= 0 || bufferBytes % Alignment != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bufferBytes), bufferBytes, $"must be a positive multiple of {Alignment}");
        }
        if (bufferCount <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bufferCount), bufferCount, "must be positive");
        }
        BufferBytes = bufferBytes;
        BufferCount = bufferCount;
        _slab = (byte*)NativeMemory.AlignedAlloc((nuint)bufferBytes * (nuint)bufferCount, Alignment);
        _free = new int[bufferCount];
        _out = new bool[bufferCount];
        for (int i = 0; i < bufferCount; i++)
        {
            _free[i] = bufferCount - 1 - i;
        }
        _freeCount = bufferCount;
    }

    public int BufferBytes { get; }

    public int BufferCount { get; }

    public int Available
    {
        get { lock (_gate) { return _freeCount; } }
    }

    /// <summary>Takes a buffer; false when the pool is exhausted (its bound).</summary>
    public bool TryRent(out int index)
    {
        lock (_gate)
        {
            if (_freeCount == 0)
            {
                index = -1;
                return false;
            }
            index = _free[--_freeCount];
            _out[index] = true;
            return true;
        }
    }

    public void Return(int index)
    {
        lock (_gate)
        {
            if ((uint)index >= (uint)BufferCount || !_out[index])
            {
                throw new InvalidOperationException($"buffer {index} returned twice or never rented");
            }
            _out[index] = false;
            _free[_freeCount++] = index;
        }
    }

    public byte* Pointer(int index) => _slab + ((long)index * BufferBytes);

    public Span<byte> Span(int index) => new(Pointer(index), BufferBytes);

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            NativeMemory.AlignedFree(_slab);
        }
    }
}
