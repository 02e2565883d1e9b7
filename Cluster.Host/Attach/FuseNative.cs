using System.Runtime.InteropServices;

namespace Shoal.Host.Attach;

/// <summary>
/// libfuse3's high-level API (3.x as in Debian 12: 3.14), by P/Invoke; no managed binding exists here. The layouts
/// below are x86_64 Linux, read from /usr/include/fuse3 (fuse.h, fuse_common.h) and bits/struct_stat.h; FuseLayoutTests
/// (integration tests) compiles the headers with gcc and compares every constant here with what the compiler says.
/// </summary>
internal static unsafe partial class FuseNative
{
    public const string Library = "libfuse3.so.3";

    /// <summary>Members of <c>struct fuse_operations</c> (getattr … lseek), all function pointers.</summary>
    public const int OperationCount = 42;

    public const int OpGetattr = 0;
    public const int OpTruncate = 11;
    public const int OpOpen = 12;
    public const int OpRead = 13;
    public const int OpWrite = 14;
    public const int OpFlush = 16;
    public const int OpRelease = 17;
    public const int OpFsync = 18;
    public const int OpReaddir = 24;

    /// <summary><c>sizeof(struct stat)</c>.</summary>
    public const int StatBytes = 144;
    public const int StatNlinkOffset = 16;
    public const int StatModeOffset = 24;
    public const int StatSizeOffset = 48;
    public const int StatBlksizeOffset = 56;
    public const int StatBlocksOffset = 64;

    /// <summary>Byte of <c>struct fuse_file_info</c> holding its bit fields (after <c>int flags</c>).</summary>
    public const int FileInfoBitsOffset = 4;

    /// <summary><c>direct_io</c>: the second bit field (after <c>writepage</c>).</summary>
    public const uint FileInfoDirectIo = 1u << 1;

    public const uint S_IFDIR = 0x4000;
    public const uint S_IFREG = 0x8000;

    public const int ENOENT = 2;
    public const int EIO = 5;
    public const int EACCES = 13;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int EFBIG = 27;
    public const int ENOSPC = 28;

    /// <summary>
    /// Parses the command line, mounts, serves requests until unmounted (multithreaded unless <c>-s</c>) and unmounts.
    /// Returns 0 on success, 1 when the arguments are wrong, other values when mounting or serving failed. Always
    /// pass <c>-f</c>: without it libfuse forks, which a .NET process cannot survive.
    /// </summary>
    [LibraryImport(Library, EntryPoint = "fuse_main_real")]
    public static partial int MainReal(int argc, nint* argv, nint operations, nuint operationsBytes, nint privateData);
}
