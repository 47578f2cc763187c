using VideoEdge.Hub;

namespace VideoEdge.Cameras;

/// <summary>Counters of one camera's capture pipeline, written by its capture thread, read by /api/state.</summary>
public sealed class CameraStats
{
    private long _captured;
    private long _published;
    private long _dropped;
    private long _encoded;
    private long _passthrough;
    private long _decoded;
    private long _noSignal;
    private long _encodeTicks;
    private long _bytesSent;
    private long _framesSent;
    private long _framesSkipped;
    private long _lastProgress = Environment.TickCount64;

    public RateMeter CaptureRate { get; } = new();
    public DurationHistogram EncodeTimes { get; } = new();

    /// <summary>Frames read from the source (published or not).</summary>
    public long Captured => Interlocked.Read(ref _captured);
    public long Published => Interlocked.Read(ref _published);
    /// <summary>Frames the source delivered but we could not use (truncated, not a JPEG, too large).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    public long Encoded => Interlocked.Read(ref _encoded);
    public long Passthrough => Interlocked.Read(ref _passthrough);
    public long Decoded => Interlocked.Read(ref _decoded);
    public long NoSignalFrames => Interlocked.Read(ref _noSignal);
    public TimeSpan EncodeTime => TimeSpan.FromTicks(Interlocked.Read(ref _encodeTicks));

    /// <summary>Totals over every viewer and snapshot ever served (a viewer's own counters leave with it).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public long FramesSent => Interlocked.Read(ref _framesSent);
    public long FramesSkipped => Interlocked.Read(ref _framesSkipped);

    /// <summary>Milliseconds (Environment.TickCount64) when the pipeline last produced anything.</summary>
    public long LastProgress => Interlocked.Read(ref _lastProgress);

    public void CountCaptured()
    {
        Interlocked.Increment(ref _captured);
        CaptureRate.Tick();
    }

    public void CountPublished() => Interlocked.Increment(ref _published);
    public void CountDropped() => Interlocked.Increment(ref _dropped);
    public void CountPassthrough() => Interlocked.Increment(ref _passthrough);
    public void CountDecoded() => Interlocked.Increment(ref _decoded);

    public void CountEncoded(TimeSpan took)
    {
        Interlocked.Increment(ref _encoded);
        Interlocked.Add(ref _encodeTicks, took.Ticks);
        EncodeTimes.Record(took);
    }

    public void CountSent(int bytes, long skipped)
    {
        Interlocked.Increment(ref _framesSent);
        Interlocked.Add(ref _bytesSent, bytes);
        if (skipped > 0)
        {
            Interlocked.Add(ref _framesSkipped, skipped);
        }
    }

    public void CountNoSignal() => Interlocked.Increment(ref _noSignal);

    public void MarkProgress() => Interlocked.Exchange(ref _lastProgress, Environment.TickCount64);
}
