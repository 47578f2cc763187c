using System.Runtime.InteropServices;

namespace VideoEdge.Interop;

/// <summary>A file in memory (memfd) written at offsets and emptied by punching holes: what <see cref="Frames.FrameFile"/> needs.</summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Library, EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport(Library, EntryPoint = "pwrite", SetLastError = true)]
    private static partial nint PWrite(int fd, byte* data, nuint length, long offset);

    [LibraryImport(Library, EntryPoint = "fallocate", SetLastError = true)]
    private static partial int FAllocate(int fd, int mode, long offset, long length);

    // fcntl is variadic; F_GETFL takes no third argument, and a plain int passes the same way on x64 and arm64 Linux.
    [LibraryImport(Library, EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    /// <summary>Writes all of <paramref name="data"/> at <paramref name="offset"/>; false when the file refuses (no memory).</summary>
    public static bool TryWriteAt(SafeHandle file, ReadOnlySpan<byte> data, long offset)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            var fd = (int)file.DangerousGetHandle();
            fixed (byte* p = data)
            {
                var done = 0;
                while (done < data.Length)
                {
                    var n = PWrite(fd, p + done, (nuint)(data.Length - done), offset + done);
                    if (n < 0 && LastError != EINTR)
                    {
                        return false;
                    }
                    done += (int)Math.Max(n, 0);
                }
                return true;
            }
        }
        finally
        {
            file.DangerousRelease();
        }
    }

    /// <summary>
    /// Takes the pages of [<paramref name="offset"/>, +<paramref name="length"/>) out of the file; whoever
    /// still references one (a socket's queue) keeps it as it is. Both must be whole pages (huge pages, if
    /// the file has them), or the kernel zeroes a partial page in place instead.
    /// </summary>
    public static bool TryPunchHole(SafeHandle file, long offset, long length)
    {
        var added = false;
        file.DangerousAddRef(ref added);
        try
        {
            return FAllocate((int)file.DangerousGetHandle(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, offset, length) == 0;
        }
        finally
        {
            file.DangerousRelease();
        }
    }

    /// <summary>
    /// True when the descriptor is in non-blocking mode (.NET sets it on a socket's first asynchronous
    /// operation); false too when it is already closed (a viewer that reset at once), never throws.
    /// </summary>
    public static bool IsNonBlocking(SafeHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var flags = Fcntl((int)handle.DangerousGetHandle(), F_GETFL, 0);
            return flags >= 0 && (flags & O_NONBLOCK) != 0;
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }
}
