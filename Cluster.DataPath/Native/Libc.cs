using System.Runtime.InteropServices;

namespace Shoal.DataPath.Native;

/// <summary>
/// The few libc calls the data path needs that .NET does not expose without allocating:
/// positional I/O on a raw descriptor (so O_DIRECT can be used) and gather writes on sockets.
/// Every call returns -1 and sets errno on failure (read it with Marshal.GetLastPInvokeError).
/// </summary>
internal static unsafe partial class Libc
{
    public const int O_RDONLY = 0x0;
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_CLOEXEC = 0x80000;
    public const int O_DIRECT = 0x4000;

    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EINVAL = 22;

    /// <summary>ioctl request that returns a block device's size in bytes (u64).</summary>
    public const ulong BLKGETSIZE64 = 0x80081272;

    public const int S_IFMT = 0xF000;
    public const int S_IFBLK = 0x6000;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    /// <summary>open(2): a descriptor, or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags, int mode);

    /// <summary>close(2): 0, or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>pread(2): bytes read (0 at end of file), or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(int fd, void* buffer, nuint count, long offset);

    /// <summary>pwrite(2): bytes written, or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    public static partial nint PWrite(int fd, void* buffer, nuint count, long offset);

    /// <summary>fdatasync(2): 0, or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    public static partial int FDataSync(int fd);

    /// <summary>ftruncate(2): 0, or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int FTruncate(int fd, long length);

    /// <summary>lseek(2): the resulting offset, or -1 with errno. Used with SEEK_END to size a file or device.</summary>
    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static partial long LSeek(int fd, long offset, int whence);

    /// <summary>writev(2) on a socket or file: bytes written, or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "writev", SetLastError = true)]
    public static partial nint WriteV(int fd, IoVec* iov, int iovCount);

    /// <summary>fallocate(2) with PUNCH_HOLE|KEEP_SIZE deallocates a range: 0, or -1 with errno (EOPNOTSUPP where unsupported).</summary>
    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    public static partial int FAllocate(int fd, int mode, long offset, long length);

    /// <summary>setsockopt(2): 0, or -1 with errno.</summary>
    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    public const int SOL_SOCKET = 1;
    public const int SO_RCVTIMEO = 20;
    public const int SO_SNDTIMEO = 21;

    public const int SO_KEEPALIVE = 9;

    public const int IPPROTO_TCP = 6;

    /// <summary>Seconds of idleness before the first keepalive probe.</summary>
    public const int TCP_KEEPIDLE = 4;

    /// <summary>Seconds between keepalive probes.</summary>
    public const int TCP_KEEPINTVL = 5;

    /// <summary>Milliseconds sent data may stay unacknowledged (keepalive probes included) before the kernel drops the connection with ETIMEDOUT.</summary>
    public const int TCP_USER_TIMEOUT = 18;

    public const int FALLOC_FL_KEEP_SIZE = 0x01;
    public const int FALLOC_FL_PUNCH_HOLE = 0x02;
    public const int SEEK_END = 2;
}
