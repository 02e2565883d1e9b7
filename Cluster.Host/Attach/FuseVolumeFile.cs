using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Shoal.DataPath.Nbd;

namespace Shoal.Host.Attach;

/// <summary>
/// Presents one volume, read and written through an <see cref="NbdClient"/>, as the only file of a FUSE mount
/// (<c>MOUNT/VOLUME</c>), so a loop device can be bound to it. Opened with direct_io: the kernel's page cache never
/// answers for the volume, every read and write reaches the client; an fsync is an NBD flush and is answered only
/// after the volume has answered it. One per process (libfuse's callbacks are static).
/// </summary>
internal static unsafe class FuseVolumeFile
{
    private static NbdClient? s_client;
    private static byte[] s_name = [];
    private static long s_sizeBytes;
    private static Action<string> s_log = _ => { };

    /// <summary>Mounts and serves until the mount is unmounted (<c>fusermount3 -u</c>); returns fuse_main's result.</summary>
    public static int Serve(NbdClient client, string mountPoint, string fileName, string fsName, Action<string> log)
    {
        if (s_client != null)
        {
            throw new InvalidOperationException("one FUSE volume file per process");
        }
        s_client = client;
        s_name = Encoding.UTF8.GetBytes("/" + fileName);
        s_sizeBytes = client.SizeBytes;
        s_log = log;
        nint* ops = (nint*)NativeMemory.AllocZeroed((nuint)(FuseNative.OperationCount * sizeof(nint)));
        ops[FuseNative.OpGetattr] = (nint)(delegate* unmanaged[Cdecl]<byte*, byte*, nint, int>)&GetAttr;
        ops[FuseNative.OpTruncate] = (nint)(delegate* unmanaged[Cdecl]<byte*, long, nint, int>)&Truncate;
        ops[FuseNative.OpOpen] = (nint)(delegate* unmanaged[Cdecl]<byte*, byte*, int>)&Open;
        ops[FuseNative.OpRead] = (nint)(delegate* unmanaged[Cdecl]<byte*, byte*, nuint, long, nint, int>)&Read;
        ops[FuseNative.OpWrite] = (nint)(delegate* unmanaged[Cdecl]<byte*, byte*, nuint, long, nint, int>)&Write;
        ops[FuseNative.OpFlush] = (nint)(delegate* unmanaged[Cdecl]<byte*, nint, int>)&Ok;
        ops[FuseNative.OpRelease] = (nint)(delegate* unmanaged[Cdecl]<byte*, nint, int>)&Ok;
        ops[FuseNative.OpFsync] = (nint)(delegate* unmanaged[Cdecl]<byte*, int, nint, int>)&Fsync;
        ops[FuseNative.OpReaddir] = (nint)(delegate* unmanaged[Cdecl]<byte*, nint, nint, long, nint, int, int>)&ReadDir;
        // -f: stay in the foreground (libfuse must not fork a .NET process); -o: the name mount(8) and df show, and
        // no attribute caching beyond a second (the size never changes while mounted).
        string[] argv = ["shoal-attach", mountPoint, "-f", "-o", $"fsname={fsName},subtype=shoal,attr_timeout=1,entry_timeout=1"];
        nint* native = stackalloc nint[argv.Length + 1];
        try
        {
            for (int i = 0; i < argv.Length; i++)
            {
                native[i] = Marshal.StringToCoTaskMemUTF8(argv[i]);
            }
            native[argv.Length] = 0;
            return FuseNative.MainReal(argv.Length, native, (nint)ops, (nuint)(FuseNative.OperationCount * sizeof(nint)), 0);
        }
        finally
        {
            for (int i = 0; i < argv.Length; i++)
            {
                Marshal.FreeCoTaskMem(native[i]);
            }
            NativeMemory.Free(ops);
        }
    }

    private static bool IsRoot(byte* path) => path[0] == (byte)'/' && path[1] == 0;

    private static bool IsFile(byte* path) => MemoryMarshal.CreateReadOnlySpanFromNullTerminated(path).SequenceEqual(s_name);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetAttr(byte* path, byte* stat, nint fileInfo)
    {
        new Span<byte>(stat, FuseNative.StatBytes).Clear();
        if (IsRoot(path))
        {
            *(uint*)(stat + FuseNative.StatModeOffset) = FuseNative.S_IFDIR | 0x1ed; // 0755
            *(ulong*)(stat + FuseNative.StatNlinkOffset) = 2;
            return 0;
        }
        if (!IsFile(path))
        {
            return -FuseNative.ENOENT;
        }
        *(uint*)(stat + FuseNative.StatModeOffset) = FuseNative.S_IFREG | 0x180; // 0600
        *(ulong*)(stat + FuseNative.StatNlinkOffset) = 1;
        *(long*)(stat + FuseNative.StatSizeOffset) = s_sizeBytes;
        *(long*)(stat + FuseNative.StatBlksizeOffset) = 4096;
        *(long*)(stat + FuseNative.StatBlocksOffset) = s_sizeBytes / 512;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Truncate(byte* path, long sizeBytes, nint fileInfo) =>
        !IsFile(path) ? -FuseNative.ENOENT : sizeBytes == s_sizeBytes ? 0 : -FuseNative.EINVAL;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Open(byte* path, byte* fileInfo)
    {
        if (!IsFile(path))
        {
            return IsRoot(path) ? -FuseNative.EISDIR : -FuseNative.ENOENT;
        }
        *(uint*)(fileInfo + FuseNative.FileInfoBitsOffset) |= FuseNative.FileInfoDirectIo;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Read(byte* path, byte* buffer, nuint size, long offsetBytes, nint fileInfo)
    {
        if (offsetBytes >= s_sizeBytes)
        {
            return 0;
        }
        int length = (int)Math.Min((long)size, s_sizeBytes - offsetBytes);
        return Io(() => s_client!.Read(offsetBytes, new Span<byte>(buffer, length)), length, "read", offsetBytes);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Write(byte* path, byte* buffer, nuint size, long offsetBytes, nint fileInfo)
    {
        if (offsetBytes + (long)size > s_sizeBytes)
        {
            return -FuseNative.ENOSPC;
        }
        int length = (int)size;
        return Io(() => s_client!.Write(offsetBytes, new ReadOnlySpan<byte>(buffer, length)), length, "write", offsetBytes);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Fsync(byte* path, int dataOnly, nint fileInfo) => Io(() => s_client!.Flush(), 0, "flush", 0);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Ok(byte* path, nint fileInfo) => 0;

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ReadDir(byte* path, nint buffer, nint filler, long offset, nint fileInfo, int flags)
    {
        if (!IsRoot(path))
        {
            return -FuseNative.ENOENT;
        }
        var fill = (delegate* unmanaged[Cdecl]<nint, byte*, byte*, long, int, int>)filler;
        byte* dot = stackalloc byte[] { (byte)'.', 0, (byte)'.', (byte)'.', 0 };
        fill(buffer, dot, null, 0, 0);
        fill(buffer, dot + 2, null, 0, 0);
        fixed (byte* name = s_name)
        {
            byte* entry = stackalloc byte[s_name.Length];
            new ReadOnlySpan<byte>(name + 1, s_name.Length - 1).CopyTo(new Span<byte>(entry, s_name.Length));
            entry[s_name.Length - 1] = 0;
            fill(buffer, entry, null, 0, 0);
        }
        return 0;
    }

    /// <summary>Runs one volume I/O; an errno becomes its negative, anything thrown becomes EIO (never let it reach libfuse).</summary>
    private static int Io(Func<int> io, int success, string what, long offsetBytes)
    {
        try
        {
            int errno = io();
            if (errno != 0)
            {
                s_log($"{what} at {offsetBytes}: errno {errno}");
                return -errno;
            }
            return success;
        }
        catch (Exception e)
        {
            s_log($"{what} at {offsetBytes}: {e.GetType().Name}: {e.Message}");
            return -FuseNative.EIO;
        }
    }
}
