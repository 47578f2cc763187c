using VideoEdge.Frames;
using VideoEdge.Sources;

namespace VideoEdge.Remote;

/// <summary>
/// The hand-over between a producer's WebSocket and the camera's capture thread: at most one
/// producer at a time, and one pending frame (a newer one replaces it, latest frame wins). Each
/// producer connection is a session; the capture thread learns that its session ended and shows
/// the no-signal picture.
/// </summary>
public sealed class RemoteFeed(CaptureContext context)
{
    private readonly object _gate = new();
    private Frame? _pending;
    private long _session;
    private bool _attached;
    private bool _everAttached;
    private readonly ReceivedFrames _received = new(context);

    /// <summary>The connected producer's address, or null.</summary>
    public string? Producer { get; private set; }

    public int Width => _received.Width;
    public int Height => _received.Height;

    /// <summary>Why the capture thread has nothing to show.</summary>
    public string IdleReason => _everAttached ? "producer disconnected" : $"waiting for a producer to push to /cams/{context.CameraName}/ingest";

    /// <summary>Takes the feed for a new producer; false (with the current one's address) while another is connected.</summary>
    public bool TryAttach(string producer, out long session, out string? current)
    {
        lock (_gate)
        {
            current = Producer;
            session = 0;
            if (_attached)
            {
                return false;
            }
            _attached = _everAttached = true;
            Producer = producer;
            session = ++_session;
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    public void Detach(long session)
    {
        Frame? dropped;
        lock (_gate)
        {
            if (session != _session || !_attached)
            {
                return;
            }
            _attached = false;
            Producer = null;
            dropped = _pending;
            _pending = null;
            Monitor.PulseAll(_gate);
        }
        dropped?.Release();
    }

    /// <summary>Hands a checked JPEG of the given size, received into a pooled frame, to the capture thread (which then owns the frame).</summary>
    public void Offer(Frame frame, int width, int height)
    {
        frame.TimestampMicros = Clock.UnixMicrosNow();
        _received.Accept(frame, width, height);
        Frame? replaced;
        lock (_gate)
        {
            replaced = _pending;
            _pending = frame;
            Monitor.Pulse(_gate);
        }
        replaced?.Release();
    }

    /// <summary>Wakes the capture thread so it sees its cancellation.</summary>
    public void Wake()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Capture thread: the session of the connected producer, waiting up to <paramref name="timeout"/> for one; 0 if none.</summary>
    public long WaitForProducer(TimeSpan timeout, CancellationToken cancellation)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_gate)
        {
            while (!_attached)
            {
                cancellation.ThrowIfCancellationRequested();
                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    return 0;
                }
                Monitor.Wait(_gate, (int)left);
            }
            return _session;
        }
    }

    /// <summary>
    /// Capture thread: the next frame of <paramref name="session"/>, or null after <paramref name="timeout"/>
    /// (a paused producer sends nothing). Throws <see cref="SourceFaultException"/> once the session ended.
    /// </summary>
    public Frame? Take(long session, TimeSpan timeout, CancellationToken cancellation)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_gate)
        {
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                if (!_attached || _session != session)
                {
                    throw new SourceFaultException("producer disconnected");
                }
                if (_pending is { } frame)
                {
                    _pending = null;
                    return frame;
                }
                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    return null;
                }
                Monitor.Wait(_gate, (int)left);
            }
        }
    }
}
