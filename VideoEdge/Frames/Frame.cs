namespace VideoEdge.Frames;

/// <summary>
/// One encoded JPEG, shared by reference count between the hub and every client writing it.
/// The buffer goes back to its <see cref="FramePool"/> when the last holder releases it.
/// The producer fills it in; once published (the hub gave it a sequence) it is read-only, as every
/// viewer is reading the same bytes.
/// </summary>
public sealed class Frame
{
    private readonly FramePool _pool;
    private byte[] _buffer = [];
    private int _refs;
    private FrameFile? _file;
    private int _fileSlot;
    // The head written before the file copy, for viewers to see whether theirs is the same (kept with the pooled frame).
    private byte[]? _fileHead;
    private int _fileHeadLength;
    private ReadOnlyMemory<byte> _fileTail;

    internal Frame(FramePool pool) => _pool = pool;

    public int Length { get; private set; }

    /// <summary>Assigned by the hub when published; contiguous across all frames of one camera.</summary>
    public long Sequence { get; internal set; }

    /// <summary>Capture time, microseconds since the Unix epoch (the driver's clock where there is one).</summary>
    public long TimestampMicros { get; set { ThrowIfPublished(); field = value; } }

    public int Width { get; set { ThrowIfPublished(); field = value; } }
    public int Height { get; set { ThrowIfPublished(); field = value; } }

    /// <summary>True for the generated "no signal" picture rather than a captured one.</summary>
    public bool IsNoSignal { get; set { ThrowIfPublished(); field = value; } }

    public ReadOnlyMemory<byte> Memory => new(_buffer, 0, Length);
    public ReadOnlySpan<byte> Span => new(_buffer, 0, Length);

    /// <summary>The writable bytes, only for the producer before the frame is published.</summary>
    public Span<byte> WritableSpan
    {
        get
        {
            ThrowIfPublished();
            return new(_buffer, 0, Length);
        }
    }

    internal int RefCount => Volatile.Read(ref _refs);

    /// <summary>The copy of this frame the hub made for sendfile (<see cref="FrameFile"/>), if it made one.</summary>
    internal bool TryGetFileCopy(out FileCopy copy)
    {
        var file = Volatile.Read(ref _file);
        copy = file is null ? default : new FileCopy(file.Handle, FrameFile.OffsetOf(_fileSlot), new(_fileHead, 0, _fileHeadLength), _fileTail);
        return file is not null;
    }

    /// <summary>Where a frame's copy lies: <paramref name="Head"/> right before <paramref name="Offset"/>, its bytes at it, then <paramref name="Trailer"/>.</summary>
    internal readonly record struct FileCopy(Microsoft.Win32.SafeHandles.SafeFileHandle File, long Offset, ReadOnlyMemory<byte> Head, ReadOnlyMemory<byte> Trailer);

    internal void AttachFileCopy(FrameFile file, int slot, ReadOnlySpan<byte> head, ReadOnlyMemory<byte> tail)
    {
        _fileTail = tail;
        _fileHead ??= new byte[FrameFile.MaxHeadBytes];
        head.CopyTo(_fileHead);
        _fileHeadLength = head.Length;
        _fileSlot = slot;
        Volatile.Write(ref _file, file);
    }

    internal void Attach(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
        Sequence = 0;
        TimestampMicros = 0;
        IsNoSignal = false;
        Volatile.Write(ref _refs, 1);
    }

    internal byte[] Detach()
    {
        _file?.Free(_fileSlot);
        _file = null;
        var b = _buffer;
        _buffer = [];
        Length = 0;
        return b;
    }

    /// <summary>Shrinks the frame after the producer learned its real size (never grows).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _buffer.Length);
        ThrowIfPublished();
        Length = length;
    }

    private void ThrowIfPublished()
    {
        if (Sequence != 0)
        {
            throw new InvalidOperationException("A published frame is read-only: viewers are reading it.");
        }
    }

    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1)
        {
            _pool.CountMisuse();
            throw new InvalidOperationException("AddRef on a frame that was already returned to its pool.");
        }
    }

    public void Release()
    {
        var left = Interlocked.Decrement(ref _refs);
        if (left == 0)
        {
            _pool.Return(this);
        }
        else if (left < 0)
        {
            _pool.CountMisuse();
            throw new InvalidOperationException("Frame released more times than it was referenced.");
        }
    }
}
