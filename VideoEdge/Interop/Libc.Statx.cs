using System.Runtime.InteropServices;

namespace VideoEdge.Interop;

/// <summary>
/// statx (linux/stat.h). Used rather than stat because struct statx has the same layout on every
/// architecture, while struct stat differs between x64 and arm64.
/// </summary>
internal static unsafe partial class Libc
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_TYPE = 0x0001;
    public const int S_IFMT = 0xF000;
    public const int S_IFSOCK = 0xC000;

    [StructLayout(LayoutKind.Sequential)]
    public struct StatxTimestamp
    {
        public long Seconds;
        public uint Nanoseconds;
        private readonly int _reserved;
    }

    /// <summary>struct statx, 256 bytes; the kernel writes all of them, so the spare tail is declared too.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StatxResult
    {
        public uint Mask, BlockSize;
        public ulong Attributes;
        public uint LinkCount, Uid, Gid;
        public ushort Mode;
        private readonly ushort _spare0;
        public ulong Inode, Size, Blocks, AttributesMask;
        public StatxTimestamp AccessTime, BirthTime, ChangeTime, ModifyTime;
        public uint RdevMajor, RdevMinor, DevMajor, DevMinor;
        public ulong MountId;
        public uint DioMemAlign, DioOffsetAlign;
        private fixed ulong _spare3[12];
    }

    [LibraryImport(Library, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Statx(int dirfd, string path, int flags, uint mask, StatxResult* buffer);
}
