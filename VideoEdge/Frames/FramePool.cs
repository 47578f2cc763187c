using System.Buffers;

namespace VideoEdge.Frames;

/// <summary>
/// Rents frame buffers from a dedicated <see cref="ArrayPool{T}"/> (the shared pool is tuned for
/// same-thread rent/return and keeps few large arrays) and recycles the <see cref="Frame"/> objects
/// themselves, so steady streaming allocates nothing per frame.
/// </summary>
public sealed class FramePool
{
    internal const int MaxFrameBytes = 16 * 1024 * 1024;
    private readonly ArrayPool<byte> _bytes = ArrayPool<byte>.Create(MaxFrameBytes, maxArraysPerBucket: 24);
    private readonly Lock _lock = new();
    private readonly Stack<Frame> _idle = new();
    private long _rented;
    private long _returned;
    private long _misuse;

    public long Rented => Interlocked.Read(ref _rented);
    public long Returned => Interlocked.Read(ref _returned);
    public long Outstanding => Rented - Returned;

    /// <summary>Release/AddRef calls on frames that were already back in the pool: must stay 0.</summary>
    public long Misuse => Interlocked.Read(ref _misuse);

    /// <summary>A frame with <paramref name="length"/> writable bytes and one reference, owned by the caller.</summary>
    public Frame Rent(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxFrameBytes);
        Frame? frame;
        lock (_lock)
        {
            _idle.TryPop(out frame);
        }
        frame ??= new Frame(this);
        frame.Attach(_bytes.Rent(length), length);
        Interlocked.Increment(ref _rented);
        return frame;
    }

    /// <summary>Rents a frame holding a copy of <paramref name="jpeg"/>.</summary>
    public Frame RentCopy(ReadOnlySpan<byte> jpeg)
    {
        var frame = Rent(jpeg.Length);
        jpeg.CopyTo(frame.WritableSpan);
        return frame;
    }

    internal void Return(Frame frame)
    {
        _bytes.Return(frame.Detach());
        Interlocked.Increment(ref _returned);
        lock (_lock)
        {
            _idle.Push(frame);
        }
    }

    internal void CountMisuse() => Interlocked.Increment(ref _misuse);
}
