using System.Buffers;
using System.Globalization;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using VideoEdge.Frames;
using VideoEdge.Sources;

namespace VideoEdge.Bus;

/// <summary>
/// --camera NAME=bus: frames a producer publishes on PREFIX.cam.NAME.frames, taken by the camera's
/// capture thread like any other source's, so no-signal, state, counters and transforms work the
/// same. While the hub has demand (a viewer, a recent snapshot) it says so on PREFIX.cam.NAME.demand
/// once a second, and at once when demand starts, so a paused producer resumes for a snapshot.
/// No-signal when the bus is down, or when demand has gone unanswered for --bus-frame-timeout.
/// </summary>
public sealed partial class BusSource : IFrameSource
{
    /// <summary>How long Open waits for the bus or a frame before the capture loop shows no-signal again.</summary>
    private static readonly TimeSpan RetryWait = TimeSpan.FromSeconds(1);

    private readonly CaptureContext _context;
    private readonly ILogger _logger;
    private readonly string _framesSubject;
    private readonly string _demandSubject;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private BusConnection? _bus;
    private CancellationTokenRegistration _wakeOnCancel;
    private Frame? _pending;
    private long _lastFrameTick;
    private long _demandSinceTick;
    private bool _starved;
    private int _width;
    private int _height;
    private long _producerSequence;
    private long _gaps;

    public BusSource(CaptureContext context)
    {
        _context = context;
        _logger = context.LoggerFactory.CreateLogger("VideoEdge.Bus");
        _framesSubject = BusSubjects.Frames(context.Options.BusPrefix, context.CameraName);
        _demandSubject = BusSubjects.Demand(context.Options.BusPrefix, context.CameraName);
        _width = context.Options.Width;
        _height = context.Options.Height;
    }

    public string Kind => SourceFactory.BusKind;
    public string Description => $"{_framesSubject} on {_context.Options.BusUrls}";
    public int Width => Volatile.Read(ref _width);
    public int Height => Volatile.Read(ref _height);
    public double Fps => _context.Stats.CaptureRate.PerSecond;

    /// <summary>Frames whose producer sequence skipped ahead: lost on the bus or by a slow hub.</summary>
    public long SequenceGaps => Interlocked.Read(ref _gaps);

    public void Open(CancellationToken cancellation)
    {
        var first = _bus is null;
        if (first)
        {
            _bus = BusConnection.Acquire(_context.Options, _context.LoggerFactory);
            _bus.Changed += Wake;
            _wakeOnCancel = cancellation.UnsafeRegister(static s => ((BusSource)s!).Wake(), this);
            _ = ReceiveAsync(_stop.Token);
            _ = TellDemandAsync(_stop.Token);
        }
        // The first attempt does not wait, so the server starts serving at once.
        var deadline = Environment.TickCount64 + (first ? 0 : (long)RetryWait.TotalMilliseconds);
        lock (_gate)
        {
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                var readyForFrames = _bus!.IsUp && (!_starved || _pending is not null || !_context.Hub.HasDemand);
                if (readyForFrames)
                {
                    _starved = false;
                    _demandSinceTick = 0;
                    return;
                }
                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    throw new SourceFaultException(_bus.IsUp ? StarvedReason : _bus.DownReason);
                }
                Monitor.Wait(_gate, (int)left);
            }
        }
    }

    private string StarvedReason => $"no frame from the producer on the bus for {_context.Options.BusFrameTimeout.TotalSeconds:0.#} s (is one publishing {_framesSubject}?)";

    /// <summary>Null now and then while nobody here watches (the producer is paused); that is not a fault.</summary>
    public Frame? Capture(CancellationToken cancellation)
    {
        var timeoutMs = (long)_context.Options.BusFrameTimeout.TotalMilliseconds;
        var deadline = Environment.TickCount64 + 1000;
        lock (_gate)
        {
            while (true)
            {
                cancellation.ThrowIfCancellationRequested();
                if (!_bus!.IsUp)
                {
                    throw new SourceFaultException(_bus.DownReason);
                }
                if (_pending is { } frame)
                {
                    _pending = null;
                    return frame;
                }
                var now = Environment.TickCount64;
                if (!_context.Hub.HasDemand)
                {
                    _demandSinceTick = 0;
                }
                else
                {
                    if (_demandSinceTick == 0)
                    {
                        _demandSinceTick = now;
                    }
                    // Demand that went unanswered this long: the producer is gone (or not running).
                    if (now - Math.Max(_demandSinceTick, _lastFrameTick) > timeoutMs)
                    {
                        _starved = true;
                        throw new SourceFaultException(StarvedReason);
                    }
                }
                var left = deadline - now;
                if (left <= 0)
                {
                    return null;
                }
                Monitor.Wait(_gate, (int)Math.Min(left, 250));
            }
        }
    }

    public void Close()
    {
    }

    /// <summary>Open already waits for the bus or a frame, so the no-signal picture repeats about once a second.</summary>
    public TimeSpan RetryDelay(int failures) => TimeSpan.Zero;

    public void Dispose()
    {
        _stop.Cancel();
        _wakeOnCancel.Dispose();
        if (_bus is { } bus)
        {
            bus.Changed -= Wake;
            bus.Release();
        }
        Frame? pending;
        lock (_gate)
        {
            pending = _pending;
            _pending = null;
        }
        pending?.Release();
    }

    private void Wake()
    {
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }
    }

    private void Offer(Frame frame)
    {
        Frame? replaced;
        lock (_gate)
        {
            replaced = _pending;
            _pending = frame;
            _lastFrameTick = Environment.TickCount64;
            Monitor.PulseAll(_gate);
        }
        replaced?.Release();
    }

    private async Task ReceiveAsync(CancellationToken stop)
    {
        try
        {
            var connection = await _bus!.ConnectedAsync(stop);
            // A frame the subscription's channel drops (the hub fell behind) goes back to the pool.
            connection.MessageDropped += (_, e) =>
            {
                if (e.Subject == _framesSubject && e.Data is Frame dropped)
                {
                    dropped.Release();
                    _context.Stats.CountDropped();
                }
                return default;
            };
            var deserializer = new FrameDeserializer(_context.Pool, _context.Options.MaxFrameBytes);
            var subscription = new NatsSubOpts
            {
                ChannelOpts = new NatsSubChannelOpts { Capacity = 4, FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest },
            };
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await foreach (var message in connection.SubscribeAsync(_framesSubject, serializer: deserializer, opts: subscription, cancellationToken: stop))
                    {
                        Accept(message);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogSubscriptionFailed(_logger, _context.CameraName, ex.Message);
                    await Task.Delay(RetryWait, stop);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private void Accept(NatsMsg<Frame?> message)
    {
        if (message.Data is not { } frame)
        {
            _context.Stats.CountDropped();
            return;
        }
        var headers = message.Headers;
        if (!JpegHeader.TryInspect(frame.Span, out var width, out var height)
            || headers is not null && headers.TryGetLastValue(BusSubjects.SizeHeader, out var size) && size != frame.Length.ToString(CultureInfo.InvariantCulture))
        {
            frame.Release();
            _context.Stats.CountDropped();
            return;
        }
        // The producer's capture time: every hub stamps the frame alike (X-Timestamp), so viewers
        // of different hubs can tell they saw the same frame.
        frame.TimestampMicros = headers is not null && headers.TryGetLastValue(BusSubjects.TimeHeader, out var time)
            && long.TryParse(time, NumberStyles.None, CultureInfo.InvariantCulture, out var micros) ? micros : Clock.UnixMicrosNow();
        if (headers is not null && headers.TryGetLastValue(BusSubjects.SequenceHeader, out var seqText)
            && long.TryParse(seqText, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            if (_producerSequence != 0 && sequence > _producerSequence + 1)
            {
                Interlocked.Add(ref _gaps, sequence - _producerSequence - 1);
            }
            _producerSequence = sequence;
        }
        frame.Width = width;
        frame.Height = height;
        Volatile.Write(ref _width, width);
        Volatile.Write(ref _height, height);
        _context.Stats.CountCaptured();
        _context.Stats.CountPassthrough();
        Offer(frame);
    }

    /// <summary>A beat on the demand subject once a second while anyone here watches, and at once when someone starts.</summary>
    private async Task TellDemandAsync(CancellationToken stop)
    {
        var hub = _context.Hub;
        // Not disposed: the hub may raise the event once more while we unsubscribe.
        var changed = new SemaphoreSlim(0);
        Action onChange = () => changed.Release();
        hub.DemandChanged += onChange;
        try
        {
            var connection = await _bus!.ConnectedAsync(stop);
            while (true)
            {
                if (hub.HasDemand && _bus.IsUp)
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    timeout.CancelAfter(BusSubjects.DemandInterval);
                    try
                    {
                        await connection.PublishAsync(_demandSubject, cancellationToken: timeout.Token);
                    }
                    catch (Exception ex) when (ex is NatsException or OperationCanceledException && !stop.IsCancellationRequested)
                    {
                        // The bus went down meanwhile: the next beat tries again.
                    }
                }
                await changed.WaitAsync(BusSubjects.DemandInterval, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            hub.DemandChanged -= onChange;
        }
    }

    /// <summary>Copies the payload once, straight from the client's receive buffer into the camera's frame pool.</summary>
    private sealed class FrameDeserializer(FramePool pool, int maxFrameBytes) : INatsDeserialize<Frame?>
    {
        public Frame? Deserialize(in ReadOnlySequence<byte> buffer)
        {
            if (buffer.Length == 0 || buffer.Length > maxFrameBytes)
            {
                return null;
            }
            var frame = pool.Rent((int)buffer.Length);
            buffer.CopyTo(frame.WritableSpan);
            return frame;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: bus subscription ended ({Reason}); subscribing again")]
    private static partial void LogSubscriptionFailed(ILogger logger, string camera, string reason);
}
