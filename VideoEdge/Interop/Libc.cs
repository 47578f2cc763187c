using System.Runtime.InteropServices;

namespace VideoEdge.Interop;

/// <summary>
/// Every libc call the program makes (this file: files, devices, memory maps, poll, clocks, and the
/// constants of all; the sibling files: sockets, statx, memory files). All are bound to <see cref="Library"/>, which
/// <see cref="NativeLibraries"/> resolves in the process's global symbol scope.
/// </summary>
internal static unsafe partial class Libc
{
    /// <summary>
    /// The library name every import here uses. It is resolved in the process's global symbol scope
    /// (the main program handle) rather than by loading libc.so.6 and looking inside it, so that an
    /// LD_PRELOAD library — the fake camera in the tests, or a user's v4l2convert/libv4l shim — sees
    /// the calls, under the JIT and in the Native AOT binary alike.
    /// </summary>
    public const string Library = "libc";

    public const int O_RDWR = 2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;

    public const int PROT_READ = 1;
    public const int PROT_WRITE = 2;
    public const int MAP_SHARED = 1;

    public const short POLLIN = 0x1;
    public const short POLLERR = 0x8;
    public const short POLLHUP = 0x10;
    public const short POLLNVAL = 0x20;

    public const int CLOCK_MONOTONIC = 1;

    public const int IPPROTO_TCP = 6;
    public const int TCP_NODELAY = 1;

    public const uint MFD_CLOEXEC = 1;
    public const int F_GETFL = 3;
    public const int FALLOC_FL_KEEP_SIZE = 1;
    public const int FALLOC_FL_PUNCH_HOLE = 2;

    public const int EINTR = 4;
    public const int EIO = 5;
    public const int ENOENT = 2;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int ENOTTY = 25;
    public const int ERANGE = 34;
    public const int EPERM = 1;
    public const int ENXIO = 6;
    public const int ESHUTDOWN = 108;

    [LibraryImport(Library, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Library, EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* argument);

    [LibraryImport(Library, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport(Library, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events, Revents;
    }

    [LibraryImport(Library, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [StructLayout(LayoutKind.Sequential)]
    public struct TimeSpec
    {
        public nint Seconds, Nanoseconds;
    }

    [LibraryImport(Library, EntryPoint = "clock_gettime", SetLastError = true)]
    public static partial int ClockGetTime(int clock, TimeSpec* time);

    public static int LastError => Marshal.GetLastPInvokeError();

    /// <summary>The C library's wording of an errno value, for logs ("No such device").</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
