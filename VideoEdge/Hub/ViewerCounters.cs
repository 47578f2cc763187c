namespace VideoEdge.Hub;

/// <summary>One viewer's counters (frames sent and skipped, bytes, fps), as /api/state and /metrics report them.</summary>
public sealed class ViewerCounters(string transport, string remote)
{
    private static long s_nextId;
    private readonly RateMeter _rate = new();
    private long _framesSent;
    private long _framesSkipped;
    private long _bytesSent;

    public long Id { get; } = Interlocked.Increment(ref s_nextId);
    public string Transport { get; } = transport;
    public string Remote { get; } = remote;
    public DateTimeOffset ConnectedSince { get; } = DateTimeOffset.UtcNow;
    public long FramesSent => Interlocked.Read(ref _framesSent);
    public long FramesSkipped => Interlocked.Read(ref _framesSkipped);
    public long BytesSent => Interlocked.Read(ref _bytesSent);
    public double Fps => _rate.PerSecond;

    public void CountSent(int bytes, long skipped)
    {
        Interlocked.Increment(ref _framesSent);
        Interlocked.Add(ref _bytesSent, bytes);
        if (skipped > 0)
        {
            Interlocked.Add(ref _framesSkipped, skipped);
        }
        _rate.Tick();
    }
}
