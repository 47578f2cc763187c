using System.Runtime.InteropServices;

namespace VideoEdge.Interop;

/// <summary>sendmsg and the structs it takes (sys/socket.h, bits/uio.h), and the one non-blocking gathered send built on it.</summary>
internal static unsafe partial class Libc
{
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport(Library, EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, MsgHdr* message, int flags);

    /// <summary>
    /// One non-blocking sendmsg of <paramref name="a"/>, <paramref name="b"/> and <paramref name="c"/>
    /// in that order, straight from their buffers (the kernel's copy is the only one). Returns the
    /// bytes the socket took: all, a part, or 0 when it is full. A failed connection throws
    /// <see cref="IOException"/>, one already closed <see cref="ObjectDisposedException"/>.
    /// </summary>
    public static long SendNow(SafeHandle socket, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c)
    {
        // Holding a reference keeps the descriptor from being closed (and its number reused by a
        // new connection) while we write to it.
        var added = false;
        socket.DangerousAddRef(ref added);
        try
        {
            fixed (byte* pa = a)
            fixed (byte* pb = b)
            fixed (byte* pc = c)
            {
                var iov = stackalloc IoVec[3];
                var count = 0;
                Add(iov, ref count, pa, a.Length);
                Add(iov, ref count, pb, b.Length);
                Add(iov, ref count, pc, c.Length);
                var message = new MsgHdr { Iov = iov, IovLength = (nuint)count };
                var fd = (int)socket.DangerousGetHandle();
                while (true)
                {
                    var sent = SendMsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
                    if (sent >= 0)
                    {
                        return sent;
                    }
                    var errno = LastError;
                    if (errno == EAGAIN)
                    {
                        return 0;
                    }
                    if (errno != EINTR)
                    {
                        throw new IOException($"the viewer's connection failed: {Describe(errno)}");
                    }
                }
            }
        }
        finally
        {
            socket.DangerousRelease();
        }
    }

    private static void Add(IoVec* iov, ref int count, byte* data, int length)
    {
        if (length > 0)
        {
            iov[count++] = new IoVec { Base = data, Length = (nuint)length };
        }
    }
}
