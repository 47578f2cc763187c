using System.Runtime.InteropServices;
using VideoEdge.Interop;

namespace VideoEdge.Bench.Native;

/// <summary>
/// The smallest V4L2 MJPEG capture: memory-mapped buffers, poll, dequeue, hand out the bytes,
/// queue the buffer again. Layouts are those of linux/videodev2.h on 64-bit Linux.
/// </summary>
internal sealed unsafe class V4l2Capture : IDisposable
{
    private const uint BufTypeVideoCapture = 1;
    private const uint MemoryMmap = 1;
    private const uint PixFmtMjpeg = 'M' | 'J' << 8 | 'P' << 16 | 'G' << 24;
    private const int FormatSize = 208;
    private const int RequestBuffersSize = 20;
    private const int BufferSize = 88;

    private static readonly nuint VidiocSFmt = IoWr(5, FormatSize);
    private static readonly nuint VidiocReqBufs = IoWr(8, RequestBuffersSize);
    private static readonly nuint VidiocQueryBuf = IoWr(9, BufferSize);
    private static readonly nuint VidiocQBuf = IoWr(15, BufferSize);
    private static readonly nuint VidiocDQBuf = IoWr(17, BufferSize);
    private static readonly nuint VidiocStreamOn = Iow(18, sizeof(int));
    private static readonly nuint VidiocStreamOff = Iow(19, sizeof(int));

    private readonly int _fd;
    private readonly byte*[] _maps;
    private readonly nuint[] _lengths;

    public V4l2Capture(string device, int width, int height, int bufferCount = 4)
    {
        Libc.Initialize();
        _fd = Libc.Open(device, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        if (_fd < 0)
        {
            throw new IOException($"open {device}: errno {Libc.LastError}");
        }
        var format = stackalloc byte[FormatSize];
        new Span<byte>(format, FormatSize).Clear();
        *(uint*)format = BufTypeVideoCapture;
        var pix = (uint*)(format + 8);
        pix[0] = (uint)width;
        pix[1] = (uint)height;
        pix[2] = PixFmtMjpeg;
        Check(Libc.Ioctl(_fd, VidiocSFmt, format), "VIDIOC_S_FMT");
        if (pix[2] != PixFmtMjpeg)
        {
            throw new IOException($"{device} offers no MJPEG");
        }
        Width = (int)pix[0];
        Height = (int)pix[1];

        var request = stackalloc uint[RequestBuffersSize / 4];
        request[0] = (uint)bufferCount;
        request[1] = BufTypeVideoCapture;
        request[2] = MemoryMmap;
        request[3] = 0;
        request[4] = 0;
        Check(Libc.Ioctl(_fd, VidiocReqBufs, request), "VIDIOC_REQBUFS");
        var count = (int)request[0];
        _maps = new byte*[count];
        _lengths = new nuint[count];
        var buffer = stackalloc byte[BufferSize];
        for (var i = 0; i < count; i++)
        {
            ClearBuffer(buffer, (uint)i);
            Check(Libc.Ioctl(_fd, VidiocQueryBuf, buffer), "VIDIOC_QUERYBUF");
            var offset = *(uint*)(buffer + 64);
            _lengths[i] = *(uint*)(buffer + 72);
            _maps[i] = (byte*)Libc.Mmap(null, _lengths[i], Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, _fd, (nint)offset);
            if (_maps[i] == (byte*)-1)
            {
                throw new IOException($"mmap buffer {i}: errno {Libc.LastError}");
            }
            Check(Libc.Ioctl(_fd, VidiocQBuf, buffer), "VIDIOC_QBUF");
        }
        var type = (int)BufTypeVideoCapture;
        Check(Libc.Ioctl(_fd, VidiocStreamOn, &type), "VIDIOC_STREAMON");
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>
    /// Waits for the next frame and passes its bytes to <paramref name="consume"/> before the buffer
    /// goes back to the driver. False when nothing arrived within <paramref name="timeoutMs"/>.
    /// </summary>
    public bool Next(int timeoutMs, FrameConsumer consume)
    {
        var pfd = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
        var ready = Libc.Poll(&pfd, 1, timeoutMs);
        if (ready <= 0)
        {
            return false;
        }
        var buffer = stackalloc byte[BufferSize];
        ClearBuffer(buffer, 0);
        if (Libc.Ioctl(_fd, VidiocDQBuf, buffer) != 0)
        {
            var errno = Libc.LastError;
            if (errno == Libc.EAGAIN)
            {
                return false;
            }
            throw new IOException($"VIDIOC_DQBUF: errno {errno}");
        }
        var index = *(uint*)buffer;
        var used = *(uint*)(buffer + 8);
        var sequence = *(uint*)(buffer + 56);
        try
        {
            consume(new ReadOnlySpan<byte>(_maps[index], (int)used), sequence);
        }
        finally
        {
            Check(Libc.Ioctl(_fd, VidiocQBuf, buffer), "VIDIOC_QBUF");
        }
        return true;
    }

    public void Dispose()
    {
        var type = (int)BufTypeVideoCapture;
        Libc.Ioctl(_fd, VidiocStreamOff, &type);
        for (var i = 0; i < _maps.Length; i++)
        {
            Libc.Munmap(_maps[i], _lengths[i]);
        }
        Libc.Close(_fd);
    }

    private static void ClearBuffer(byte* buffer, uint index)
    {
        new Span<byte>(buffer, BufferSize).Clear();
        *(uint*)buffer = index;
        *(uint*)(buffer + 4) = BufTypeVideoCapture;
        *(uint*)(buffer + 60) = MemoryMmap;
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw new IOException($"{what}: errno {Libc.LastError}");
        }
    }

    // _IOC(dir, 'V', nr, size) as in asm-generic/ioctl.h.
    private static nuint IoWr(int nr, int size) => (nuint)((3u << 30) | ((uint)size << 16) | ('V' << 8) | (uint)nr);
    private static nuint Iow(int nr, int size) => (nuint)((1u << 30) | ((uint)size << 16) | ('V' << 8) | (uint)nr);
}

internal delegate void FrameConsumer(ReadOnlySpan<byte> jpeg, uint sequence);
