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
    /// As <see cref="SendNow"/>, with <paramref name="body"/> sent from its copy at <paramref name="offset"/>
    /// in <paramref name="file"/> (sendfile: the socket's buffers take references to the file's pages,
    /// no copy), and with <paramref name="headInFile"/> / <paramref name="tailInFile"/> the head right
    /// before it and the tail right after it too. The socket must be in non-blocking mode, as sendfile
    /// takes no flags. Where the kernel refuses sendfile for this pair, the bytes themselves go
    /// instead. Returns the bytes of head, body and tail the socket took, in order.
    /// </summary>
    public static long SendNowFromFile(SafeHandle socket, ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, ReadOnlySpan<byte> tail,
        SafeHandle file, long offset, bool headInFile, bool tailInFile)
    {
        bool addedSocket = false, addedFile = false;
        socket.DangerousAddRef(ref addedSocket);
        try
        {
            file.DangerousAddRef(ref addedFile);
            var fd = (int)socket.DangerousGetHandle();
            var sent = SendFromFile(fd, head, body, tail, socket, (int)file.DangerousGetHandle(), offset, headInFile, tailInFile);
            if (sent > 0 && sent < head.Length + body.Length + tail.Length)
            {
                // The socket filled up after taking some of this message (none taken: none held).
                // Bytes sent with "more follows" (the head's MSG_MORE, and each
                // sendfile round but its last) are held as a partial segment that nothing may follow
                // now: on loopback, where a segment holds 64 KB, that can be all of them, and the
                // socket then waits ~200 ms for a timer before it sends and drains (measured: 5 fps).
                PushHeldBytes(fd);
            }
            return sent;
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

    private static long SendFromFile(int fd, ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, ReadOnlySpan<byte> tail,
        SafeHandle socket, int fileFd, long offset, bool headInFile, bool tailInFile)
    {
        long n, sent = 0;
        fixed (byte* ph = head)
        fixed (byte* pt = tail)
        {
            if (!headInFile && head.Length > 0)
            {
                // Held back for the body, so a small head never leaves as a packet of its own.
                while (!Taken(Send(fd, ph, (nuint)head.Length, MSG_MORE | MSG_DONTWAIT | MSG_NOSIGNAL), out n))
                {
                }
                if (n < head.Length)
                {
                    return n;
                }
                sent = n;
            }
            var start = headInFile ? offset - head.Length : offset;
            var inFile = (headInFile ? head.Length : 0) + body.Length + (tailInFile ? tail.Length : 0);
            // The kernel advances `from` by what it takes; a socket that fills up takes less than asked.
            var from = start;
            while (from - start < inFile)
            {
                nint result;
                while (!Taken(result = SendFile(fd, fileFd, &from, (nuint)(inFile - (from - start))), out n, refusable: true))
                {
                }
                if (result < 0 && LastError != EAGAIN)
                {
                    // Refused for this file or socket, or the connection failed, which sendmsg then reports
                    // (sendfile has no MSG_NOSIGNAL: its EPIPE comes with a SIGPIPE, which the .NET runtime ignores).
                    var done = sent + (from - start);
                    return done + SendNow(socket, Rest(head, done), Rest(body, done - head.Length), Rest(tail, done - head.Length - body.Length));
                }
                if (n == 0)
                {
                    break;
                }
            }
            sent += from - start;
            if (from - start == inFile && !tailInFile && tail.Length > 0)
            {
                while (!Taken(Send(fd, pt, (nuint)tail.Length, MSG_DONTWAIT | MSG_NOSIGNAL), out n))
                {
                }
                sent += n;
            }
            return sent;
        }
    }

    /// <summary>
    /// Sends what the socket holds back for more (MSG_MORE) at once: turning TCP_NODELAY on pushes the
    /// pending segments even where it is on already. Not TCP (a Unix socket): nothing is held back.
    /// </summary>
    private static void PushHeldBytes(int fd)
    {
        var on = 1;
        _ = SetSockOpt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(int));
    }

    [LibraryImport(Library, EntryPoint = "setsockopt", SetLastError = true)]
    private static partial int SetSockOpt(int fd, int level, int name, void* value, uint length);

    /// <summary>What is left of <paramref name="bytes"/> once <paramref name="skip"/> of them are sent.</summary>
    private static ReadOnlySpan<byte> Rest(ReadOnlySpan<byte> bytes, long skip) => bytes[(int)Math.Clamp(skip, 0, bytes.Length)..];

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
