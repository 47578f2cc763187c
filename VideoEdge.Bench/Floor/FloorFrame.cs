using System.Buffers.Text;

namespace VideoEdge.Bench.Floor;

/// <summary>
/// One captured JPEG with its multipart part header formatted once, in pinned arrays so every
/// client's sendmsg can point straight at them. Shared by reference count, recycled through
/// <see cref="FloorFramePool"/>.
/// </summary>
internal sealed class FloorFrame
{
    public const int HeaderCapacity = 128;
    private readonly FloorFramePool _pool;
    private int _refs;

    public FloorFrame(FloorFramePool pool, int capacity)
    {
        _pool = pool;
        Jpeg = GC.AllocateUninitializedArray<byte>(capacity, pinned: true);
        Header = GC.AllocateUninitializedArray<byte>(HeaderCapacity, pinned: true);
    }

    public byte[] Jpeg { get; }
    public int JpegLength { get; private set; }
    public byte[] Header { get; }
    public int HeaderLength { get; private set; }
    public long Sequence { get; private set; }

    public void Fill(ReadOnlySpan<byte> jpeg, long sequence)
    {
        jpeg.CopyTo(Jpeg);
        JpegLength = jpeg.Length;
        Sequence = sequence;
        var micros = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        Span<byte> h = Header;
        var n = Put("Content-Type: image/jpeg\r\nContent-Length: "u8, h);
        Utf8Formatter.TryFormat(jpeg.Length, h[n..], out var w);
        n += w;
        n += Put("\r\nX-Timestamp: "u8, h[n..]);
        Utf8Formatter.TryFormat(micros / 1_000_000, h[n..], out w);
        n += w;
        h[n++] = (byte)'.';
        Utf8Formatter.TryFormat(micros % 1_000_000, h[n..], out w, new System.Buffers.StandardFormat('D', 6));
        n += w;
        n += Put("\r\n\r\n"u8, h[n..]);
        HeaderLength = n;
        _refs = 1;
    }

    public void AddRef() => Interlocked.Increment(ref _refs);

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            _pool.Return(this);
        }
    }

    private static int Put(ReadOnlySpan<byte> s, Span<byte> d)
    {
        s.CopyTo(d);
        return s.Length;
    }
}

internal sealed class FloorFramePool(int capacity)
{
    private readonly Stack<FloorFrame> _idle = new();
    private readonly Lock _lock = new();

    public FloorFrame Rent()
    {
        lock (_lock)
        {
            if (_idle.TryPop(out var f))
            {
                return f;
            }
        }
        return new FloorFrame(this, capacity);
    }

    public void Return(FloorFrame frame)
    {
        lock (_lock)
        {
            _idle.Push(frame);
        }
    }
}
