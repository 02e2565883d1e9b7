using System.Reflection;

namespace Shoal.Integration.Tests;

/// <summary>
/// The attach helper's libfuse3 layouts (<c>FuseNative</c>'s constants: slots of <c>struct fuse_operations</c>,
/// offsets in <c>struct stat</c> and <c>struct fuse_file_info</c>) against the installed headers, compiled by gcc: a
/// libfuse or libc whose layout differs fails here instead of corrupting memory in the helper.
/// </summary>
public sealed class FuseLayoutTests : IDisposable
{
    private const string Program = """
        #define FUSE_USE_VERSION 31
        #define _FILE_OFFSET_BITS 64
        #include <fuse.h>
        #include <stddef.h>
        #include <stdio.h>
        #include <string.h>
        #include <stdint.h>
        #include <sys/stat.h>
        int main(void) {
            printf("OperationCount=%zu\n", sizeof(struct fuse_operations) / sizeof(void *));
            printf("OpGetattr=%zu\n", offsetof(struct fuse_operations, getattr) / sizeof(void *));
            printf("OpTruncate=%zu\n", offsetof(struct fuse_operations, truncate) / sizeof(void *));
            printf("OpOpen=%zu\n", offsetof(struct fuse_operations, open) / sizeof(void *));
            printf("OpRead=%zu\n", offsetof(struct fuse_operations, read) / sizeof(void *));
            printf("OpWrite=%zu\n", offsetof(struct fuse_operations, write) / sizeof(void *));
            printf("OpFlush=%zu\n", offsetof(struct fuse_operations, flush) / sizeof(void *));
            printf("OpRelease=%zu\n", offsetof(struct fuse_operations, release) / sizeof(void *));
            printf("OpFsync=%zu\n", offsetof(struct fuse_operations, fsync) / sizeof(void *));
            printf("OpReaddir=%zu\n", offsetof(struct fuse_operations, readdir) / sizeof(void *));
            printf("StatBytes=%zu\n", sizeof(struct stat));
            printf("StatNlinkOffset=%zu\n", offsetof(struct stat, st_nlink));
            printf("StatModeOffset=%zu\n", offsetof(struct stat, st_mode));
            printf("StatSizeOffset=%zu\n", offsetof(struct stat, st_size));
            printf("StatBlksizeOffset=%zu\n", offsetof(struct stat, st_blksize));
            printf("StatBlocksOffset=%zu\n", offsetof(struct stat, st_blocks));
            struct fuse_file_info fi;
            memset(&fi, 0, sizeof fi);
            fi.direct_io = 1;
            for (size_t at = 0; at + 4 <= sizeof fi; at += 4) {
                uint32_t word;
                memcpy(&word, (char *)&fi + at, 4);
                if (word != 0) { printf("FileInfoBitsOffset=%zu\nFileInfoDirectIo=%u\n", at, word); }
            }
            return 0;
        }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("shoal-fuse-layout-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void FuseNative_matches_the_installed_libfuse3_headers()
    {
        Tool.Require("gcc");
        Assert.True(File.Exists("/usr/include/fuse3/fuse.h"), "/usr/include/fuse3/fuse.h is missing: run the tests with 'dotnet pwsh ./build.ps1 test', which installs libfuse3-dev");
        string source = Path.Combine(_dir, "layout.c");
        string binary = Path.Combine(_dir, "layout");
        File.WriteAllText(source, Program);
        (int code, string text) = Tool.Run("gcc", ["-I/usr/include/fuse3", "-o", binary, source], TimeSpan.FromSeconds(60));
        Assert.True(code == 0, "gcc: " + text);
        (code, text) = Tool.Run(binary, [], TimeSpan.FromSeconds(10));
        Assert.True(code == 0, text);
        Type native = Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, "shoal.dll")).GetType("Shoal.Host.Attach.FuseNative", throwOnError: true)!;
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(18, lines.Length);
        foreach (string line in lines)
        {
            string[] kv = line.Split('=');
            FieldInfo field = native.GetField(kv[0], BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                ?? throw new InvalidOperationException($"FuseNative has no constant {kv[0]}");
            Assert.True(Convert.ToUInt64(field.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture) == ulong.Parse(kv[1], System.Globalization.CultureInfo.InvariantCulture),
                $"FuseNative.{kv[0]} is {field.GetRawConstantValue()}, the headers say {kv[1]}");
        }
    }
}
