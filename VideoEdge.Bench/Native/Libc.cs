using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

// The product's Interop/Libc*.cs are compiled into the bench too (see the .csproj): open, ioctl,
// mmap, poll, send, sendmsg, kill and their constants and structs exist once. This part of the class adds
// what only the floor server and the load client need (plain sockets, epoll, eventfd).
namespace VideoEdge.Interop;

/// <summary>
/// The libc calls the floor server and the load client make directly. They resolve through the
/// main program's global scope, so the fake camera preloaded with LD_PRELOAD sees open/ioctl/mmap.
/// </summary>
internal static unsafe partial class Libc
{
    public const int EINPROGRESS = 115;

    public const int AF_INET = 2;
    public const int SOCK_STREAM = 1;
    public const int SOCK_NONBLOCK = 0x800;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_REUSEADDR = 2;
    public const int SO_SNDBUF = 7;
    public const int SO_RCVBUF = 8;
    public const int MSG_TRUNC = 0x20;

    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const int EPOLL_CTL_MOD = 3;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;

    static Libc()
    {
        NativeLibrary.SetDllImportResolver(typeof(Libc).Assembly, Resolve);
    }

    /// <summary>Call once before the first P/Invoke so the resolver is in place.</summary>
    public static void Initialize()
    {
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name == Library ? NativeLibrary.GetMainProgramHandle() : IntPtr.Zero;

    [LibraryImport(Library, EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport(Library, EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, int* value, uint length);

    [LibraryImport(Library, EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int fd, SockAddrIn* address, uint length);

    [LibraryImport(Library, EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, SockAddrIn* address, uint* length);

    [LibraryImport(Library, EntryPoint = "listen", SetLastError = true)]
    public static partial int Listen(int fd, int backlog);

    [LibraryImport(Library, EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept4(int fd, void* address, void* length, int flags);

    [LibraryImport(Library, EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, SockAddrIn* address, uint length);

    [LibraryImport(Library, EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Library, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate1(int flags);

    [LibraryImport(Library, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, byte* eventData);

    [LibraryImport(Library, EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeoutMs);

    [LibraryImport(Library, EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport(Library, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint length);

    [LibraryImport(Library, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint length);

    public const int SIGTERM = 15;

    public static void SetIntOption(int fd, int level, int name, int value)
    {
        if (SetSockOpt(fd, level, name, &value, sizeof(int)) != 0)
        {
            throw new IOException($"setsockopt({level},{name}) failed: errno {LastError}");
        }
    }

    public static SockAddrIn Loopback(int port) => new()
    {
        Family = AF_INET,
        PortBigEndian = (ushort)((port >> 8) | ((port & 0xFF) << 8)),
        Address = 0x0100007F,
    };
}

[StructLayout(LayoutKind.Sequential)]
internal struct SockAddrIn
{
    public ushort Family;
    public ushort PortBigEndian;
    public uint Address;
    public ulong Zero;

    public readonly int Port => (PortBigEndian >> 8) | ((PortBigEndian & 0xFF) << 8);
}

/// <summary>
/// struct epoll_event is packed (12 bytes) on x86-64 and naturally aligned (16) elsewhere, so the
/// events live in a byte array read through these helpers.
/// </summary>
internal static unsafe class EpollEvent
{
    public static readonly int Size = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    public static void Set(byte* slot, uint events, ulong data)
    {
        *(uint*)slot = events;
        Unsafe.WriteUnaligned(slot + DataOffset, data);
    }

    public static uint Events(byte* slot) => *(uint*)slot;
    public static ulong Data(byte* slot) => Unsafe.ReadUnaligned<ulong>(slot + DataOffset);

    /// <summary>Registers, modifies or removes <paramref name="fd"/> with <paramref name="data"/> as its tag.</summary>
    public static void Control(int epfd, int op, int fd, uint events, ulong data)
    {
        byte* e = stackalloc byte[16];
        Set(e, events, data);
        if (Libc.EpollCtl(epfd, op, fd, e) != 0 && op != Libc.EPOLL_CTL_DEL)
        {
            throw new IOException($"epoll_ctl({op}) failed: errno {Libc.LastError}");
        }
    }
}
