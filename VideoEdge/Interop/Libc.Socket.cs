using System.Runtime.InteropServices;

namespace VideoEdge.Interop;

/// <summary>The socket sends (sys/socket.h, bits/uio.h, sys/sendfile.h), their structs, and the non-blocking sends built on them.</summary>
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

    [LibraryImport(Library, EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* data, nuint length, int flags);

    [LibraryImport(Library, EntryPoint = "sendfile", SetLastError = true)]
    private static partial nint SendFile(int socket, int file, long* offset, nuint count);

    /// <summary>More follows at once: the kernel holds a partial segment for it.</summary>
    public const int MSG_MORE = 0x8000;

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
                long sent;
                while (!Taken(SendMsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL), out sent))
                {
                }
                return sent;
            }
        }
        finally
        {
            socket.DangerousRelease();
        }
    }

    /// <summary>
    /// As <see cref="SendNow"/>, with <paramref name="body"/> — and with <paramref name="tailInFile"/>
    /// the tail too — sent from their copy at <paramref name="offset"/> in <paramref name="file"/>
    /// (sendfile: the socket's buffers take references to the file's pages, no copy). The socket must
    /// be in non-blocking mode, as sendfile takes no flags. Where the kernel refuses sendfile for this
    /// pair, the bytes themselves go instead. Returns the bytes the socket took, in order.
    /// </summary>
    public static long SendNowFromFile(SafeHandle socket, ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, ReadOnlySpan<byte> tail,
        SafeHandle file, long offset, bool tailInFile)
    {
        bool addedSocket = false, addedFile = false;
        socket.DangerousAddRef(ref addedSocket);
        try
        {
            file.DangerousAddRef(ref addedFile);
            var fd = (int)socket.DangerousGetHandle();
            long n;
            fixed (byte* ph = head)
            fixed (byte* pt = tail)
            {
                if (head.Length > 0)
                {
                    // Held back for the body, so a small head never leaves as a packet of its own.
                    while (!Taken(Send(fd, ph, (nuint)head.Length, MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL), out n))
                    {
                    }
                    if (n < head.Length)
                    {
                        return n;
                    }
                }
                var inFile = body.Length + (tailInFile ? tail.Length : 0);
                // The kernel advances `from` by what it takes; a socket that fills up takes less than asked.
                var from = offset;
                while (from - offset < inFile)
                {
                    nint result;
                    while (!Taken(result = SendFile(fd, (int)file.DangerousGetHandle(), &from, (nuint)(inFile - (from - offset))), out n, refusable: true))
                    {
                    }
                    if (result < 0 && LastError != EAGAIN)
                    {
                        // Refused for this file or socket, or the connection failed, which sendmsg then reports
                    // (sendfile has no MSG_NOSIGNAL: its EPIPE comes with a SIGPIPE, which the .NET runtime ignores).
                        var done = (int)(from - offset);
                        return head.Length + done + SendNow(socket, default, body[Math.Min(done, body.Length)..], tail[Math.Max(0, done - body.Length)..]);
                    }
                    if (n == 0)
                    {
                        break;
                    }
                }
                var sent = head.Length + (from - offset);
                if (from - offset == inFile && !tailInFile && tail.Length > 0)
                {
                    while (!Taken(Send(fd, pt, (nuint)tail.Length, MSG_DONTWAIT | MSG_NOSIGNAL), out n))
                    {
                    }
                    sent += n;
                }
                return sent;
            }
        }
        finally
        {
            if (addedFile)
            {
                file.DangerousRelease();
            }
            socket.DangerousRelease();
        }
    }

    /// <summary>
    /// What a non-blocking send returned as bytes taken (0: the socket is full); false: interrupted,
    /// call again. A failed connection throws; with <paramref name="refusable"/> any failure returns 0
    /// for the caller to look at errno.
    /// </summary>
    private static bool Taken(nint result, out long taken, bool refusable = false)
    {
        taken = Math.Max(result, 0);
        if (result >= 0)
        {
            return true;
        }
        var errno = LastError;
        if (errno == EAGAIN || (refusable && errno != EINTR))
        {
            return true;
        }
        if (errno != EINTR)
        {
            throw new IOException($"the viewer's connection failed: {Describe(errno)}");
        }
        return false;
    }

    private static void Add(IoVec* iov, ref int count, byte* data, int length)
    {
        if (length > 0)
        {
            iov[count++] = new IoVec { Base = data, Length = (nuint)length };
        }
    }
}
