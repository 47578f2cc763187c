using VideoEdge.Frames;
using VideoEdge.Sources;

namespace VideoEdge.Remote;

/// <summary>
/// --camera NAME=remote: frames pushed by a producer to /cams/NAME/ingest, taken by the camera's
/// capture thread like any other source's, so the no-signal picture ("producer disconnected"), the
/// counters and the transform stage work the same for it. The JPEGs are passed through unchanged.
/// </summary>
public sealed class RemoteSource(CaptureContext context) : IFrameSource
{
    /// <summary>How long Open waits for a producer before the capture loop shows no-signal again.</summary>
    private static readonly TimeSpan ProducerWait = TimeSpan.FromSeconds(1);

    private CancellationTokenRegistration _wakeOnCancel;
    private bool _registered;
    private long _session;

    public RemoteFeed Feed { get; } = new(context);

    public string Kind => SourceFactory.RemoteKind;
    public bool PausesWhenUnwatched => true;
    public string Description => Feed.Producer is { } producer ? "pushed by " + producer : $"pushed to /cams/{context.CameraName}/ingest";
    public int Width => Feed.Width;
    public int Height => Feed.Height;
    public double Fps => context.Stats.CaptureRate.PerSecond;

    public void Open(CancellationToken cancellation)
    {
        var first = !_registered;
        if (first)
        {
            _wakeOnCancel = cancellation.UnsafeRegister(static f => ((RemoteFeed)f!).Wake(), Feed);
            _registered = true;
        }
        // The first attempt does not wait, so the server starts serving at once.
        _session = Feed.WaitForProducer(first ? TimeSpan.Zero : ProducerWait, cancellation);
        if (_session == 0)
        {
            throw new SourceFaultException(Feed.IdleReason);
        }
    }

    /// <summary>Null now and then while a paused producer sends nothing; that is not a fault.</summary>
    public Frame? Capture(CancellationToken cancellation) => Feed.Take(_session, TimeSpan.FromSeconds(1), cancellation);

    public void Close() => _session = 0;

    /// <summary>Open already waits for the producer, so the no-signal picture repeats about once a second.</summary>
    public TimeSpan RetryDelay(int failures) => TimeSpan.Zero;

    public void Dispose() => _wakeOnCancel.Dispose();
}
