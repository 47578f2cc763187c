using VideoEdge.Interop;
using static VideoEdge.Sources.V4l2.V4l2Constants;

namespace VideoEdge.Sources.V4l2;

/// <summary>What the driver granted: the format every dequeued buffer has.</summary>
public sealed record V4l2CaptureFormat(uint PixelFormat, int Width, int Height, int BytesPerLine, int SizeImage, double Fps)
{
    public bool IsJpeg => PixelFormat == PixFmtMjpeg || PixelFormat == PixFmtJpeg;
    public string FourCC => FourCCText(PixelFormat);
}

/// <summary>A filled buffer the driver handed us; valid until it is requeued.</summary>
public readonly unsafe struct V4l2DequeuedBuffer(int index, byte* data, int length, uint flags, uint sequence, long timestampMicros)
{
    public int Index { get; } = index;
    public ReadOnlySpan<byte> Data => new(data, length);
    public uint Sequence { get; } = sequence;
    /// <summary>Capture time in microseconds since the Unix epoch.</summary>
    public long TimestampMicros { get; } = timestampMicros;
    public bool HasError => (flags & BufFlagError) != 0;
}

/// <summary>
/// Streaming capture with memory-mapped buffers on an open device: negotiate, map, stream on,
/// dequeue and requeue. Waits use poll with short slices so that cancellation is noticed within
/// 200 ms. All calls come from the capture thread.
/// </summary>
public sealed unsafe class V4l2BufferQueue(V4l2Device device) : IDisposable
{
    private const int PollSliceMilliseconds = 200;
    private readonly List<(nint Address, nuint Length)> _buffers = [];
    private bool _streaming;
    private bool _requested;
    private long _monotonicToWallMicros;

    public V4l2CaptureFormat? Format { get; private set; }

    public IReadOnlyList<nint> BufferAddresses => [.. _buffers.Select(b => b.Address)];

    /// <summary>Sets the pixel format, size and rate; returns what the driver granted.</summary>
    public V4l2CaptureFormat Negotiate(uint pixelFormat, int width, int height, double fps)
    {
        var format = new V4l2Format { Type = BufTypeVideoCapture };
        format.Fmt.Pix.Width = (uint)width;
        format.Fmt.Pix.Height = (uint)height;
        format.Fmt.Pix.PixelFormat = pixelFormat;
        format.Fmt.Pix.Field = FieldNone;
        device.Ioctl(VidiocSFmt, ref format, "VIDIOC_S_FMT");
        var pix = format.Fmt.Pix;

        // Drivers that cannot set the rate (no TIMEPERFRAME capability) report none; keep the asked one then.
        var granted = fps;
        var parm = new V4l2StreamParm { Type = BufTypeVideoCapture };
        if (device.TryIoctl(VidiocGParm, ref parm) == 0 && (parm.Capture.Capability & CapTimePerFrame) != 0)
        {
            parm.Capture.TimePerFrame = new V4l2Fract { Numerator = 1000, Denominator = (uint)Math.Round(fps * 1000) };
            if (device.TryIoctl(VidiocSParm, ref parm) == 0 && parm.Capture.TimePerFrame is { Numerator: > 0 } t)
            {
                granted = Math.Round((double)t.Denominator / t.Numerator, 3);
            }
        }
        Format = new V4l2CaptureFormat(pix.PixelFormat, (int)pix.Width, (int)pix.Height, (int)pix.BytesPerLine, (int)pix.SizeImage, granted);
        return Format;
    }

    /// <summary>Requests and maps <paramref name="count"/> buffers (the driver may grant another number), queues them all and starts streaming.</summary>
    public void Start(int count)
    {
        var request = new V4l2RequestBuffers { Count = (uint)count, Type = BufTypeVideoCapture, Memory = MemoryMmap };
        device.Ioctl(VidiocReqBufs, ref request, "VIDIOC_REQBUFS");
        _requested = true;
        if (request.Count < 2)
        {
            throw new V4l2Exception(device.Path, "VIDIOC_REQBUFS (fewer than 2 buffers granted)", Libc.ENOMEM);
        }
        for (uint i = 0; i < request.Count; i++)
        {
            var buffer = new V4l2Buffer { Index = i, Type = BufTypeVideoCapture, Memory = MemoryMmap };
            device.Ioctl(VidiocQueryBuf, ref buffer, "VIDIOC_QUERYBUF");
            var address = Libc.Mmap(null, buffer.Length, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, device.Fd, (nint)buffer.Offset);
            if (address == (void*)-1)
            {
                throw new V4l2Exception(device.Path, "mmap", Libc.LastError);
            }
            _buffers.Add(((nint)address, buffer.Length));
        }
        for (var i = 0; i < _buffers.Count; i++)
        {
            Requeue(i);
        }
        _monotonicToWallMicros = MonotonicToWallOffset();
        var type = (int)BufTypeVideoCapture;
        device.Ioctl(VidiocStreamOn, ref type, "VIDIOC_STREAMON");
        _streaming = true;
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> for a filled buffer. False on timeout;
    /// throws <see cref="V4l2Exception"/> when the device fails or disappears.
    /// </summary>
    public bool TryDequeue(int timeoutMilliseconds, CancellationToken cancellation, out V4l2DequeuedBuffer dequeued)
    {
        var deadline = Environment.TickCount64 + timeoutMilliseconds;
        while (true)
        {
            var buffer = new V4l2Buffer { Type = BufTypeVideoCapture, Memory = MemoryMmap };
            var errno = device.TryIoctl(VidiocDQBuf, ref buffer);
            if (errno == 0)
            {
                dequeued = ToDequeued(buffer);
                return true;
            }
            if (errno != Libc.EAGAIN)
            {
                throw new V4l2Exception(device.Path, "VIDIOC_DQBUF", errno);
            }
            cancellation.ThrowIfCancellationRequested();
            var left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                dequeued = default;
                return false;
            }
            var poll = new Libc.PollFd { Fd = device.Fd, Events = Libc.POLLIN };
            var ready = Libc.Poll(&poll, 1, (int)Math.Min(left, PollSliceMilliseconds));
            if (ready < 0 && Libc.LastError is var pollErrno && pollErrno != Libc.EINTR)
            {
                throw new V4l2Exception(device.Path, "poll", pollErrno);
            }
            if (ready > 0 && (poll.Revents & (Libc.POLLERR | Libc.POLLHUP | Libc.POLLNVAL)) != 0 && (poll.Revents & Libc.POLLIN) == 0)
            {
                // uvcvideo reports a disconnect as POLLERR|POLLHUP; DQBUF would then say ENODEV or EAGAIN forever.
                var probe = new V4l2Buffer { Type = BufTypeVideoCapture, Memory = MemoryMmap };
                errno = device.TryIoctl(VidiocDQBuf, ref probe);
                if (errno == 0)
                {
                    dequeued = ToDequeued(probe);
                    return true;
                }
                throw new V4l2Exception(device.Path, "poll", errno == Libc.EAGAIN ? Libc.EIO : errno);
            }
        }
    }

    private V4l2DequeuedBuffer ToDequeued(in V4l2Buffer buffer)
    {
        var (address, length) = _buffers[(int)buffer.Index];
        var used = (int)Math.Min(buffer.BytesUsed, (uint)length);
        long timestamp;
        if ((buffer.Flags & BufFlagTimestampMask) == BufFlagTimestampMonotonic && (buffer.TimestampSeconds != 0 || buffer.TimestampMicroseconds != 0))
        {
            timestamp = (long)buffer.TimestampSeconds * 1_000_000 + buffer.TimestampMicroseconds + _monotonicToWallMicros;
        }
        else
        {
            timestamp = Frames.Clock.UnixMicrosNow();
        }
        return new V4l2DequeuedBuffer((int)buffer.Index, (byte*)address, used, buffer.Flags, buffer.Sequence, timestamp);
    }

    public void Requeue(int index)
    {
        var buffer = new V4l2Buffer { Index = (uint)index, Type = BufTypeVideoCapture, Memory = MemoryMmap };
        device.Ioctl(VidiocQBuf, ref buffer, "VIDIOC_QBUF");
    }

    /// <summary>Wall clock minus CLOCK_MONOTONIC, in microseconds: taken once per stream, added to every driver timestamp.</summary>
    private static long MonotonicToWallOffset()
    {
        Libc.TimeSpec mono;
        Libc.ClockGetTime(Libc.CLOCK_MONOTONIC, &mono);
        var wall = Frames.Clock.UnixMicrosNow();
        return wall - ((long)mono.Seconds * 1_000_000 + (long)mono.Nanoseconds / 1000);
    }

    /// <summary>Stops streaming and frees the buffers; errors are ignored (the device may be gone).</summary>
    public void Dispose()
    {
        if (_streaming)
        {
            var type = (int)BufTypeVideoCapture;
            device.TryIoctl(VidiocStreamOff, ref type);
            _streaming = false;
        }
        foreach (var (address, length) in _buffers)
        {
            Libc.Munmap((void*)address, length);
        }
        _buffers.Clear();
        if (_requested)
        {
            var release = new V4l2RequestBuffers { Count = 0, Type = BufTypeVideoCapture, Memory = MemoryMmap };
            device.TryIoctl(VidiocReqBufs, ref release);
            _requested = false;
        }
    }
}
