using System.Buffers;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using VideoEdge.Frames;
using VideoEdge.Hub;
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
    private readonly ReceivedFrames _received;
    private long _producerSequence;
    private long _gaps;

    public BusSource(CaptureContext context)
    {
        _context = context;
        _logger = context.LoggerFactory.CreateLogger("VideoEdge.Bus");
        _framesSubject = BusSubjects.Frames(context.Options.BusPrefix, context.CameraName);
        _demandSubject = BusSubjects.Demand(context.Options.BusPrefix, context.CameraName);
        _received = new ReceivedFrames(context);
    }

    public string Kind => SourceFactory.BusKind;
    public bool PausesWhenUnwatched => true;
    public string Description => $"{_framesSubject} on {_context.Options.BusUrls}";
    public int Width => _received.Width;
    public int Height => _received.Height;
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
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    // Survives reconnects (the client subscribes again); ends only when the client ends it.
                    await using var subscription = new FrameSubscription(this, connection, stop);
                    await connection.AddSubAsync(subscription, stop);
                    await subscription.Ended.WaitAsync(stop);
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

    /// <summary>
    /// The client's socket reader thread, for each message: copies the payload once, straight from the
    /// client's receive buffer into the camera's frame pool, and reads the headers from their bytes, so a
    /// frame costs no allocation and no hop through a channel and the thread pool.
    /// </summary>
    private void Accept(in ReadOnlySequence<byte>? headers, in ReadOnlySequence<byte> payload)
    {
        if (payload.Length == 0 || payload.Length > _context.Options.MaxFrameBytes)
        {
            _context.Stats.CountDropped();
            return;
        }
        var fields = headers is { } h ? FrameHeaders.Parse(h) : default;
        var frame = _context.Pool.Rent((int)payload.Length);
        payload.CopyTo(frame.WritableSpan);
        if (!JpegHeader.TryInspect(frame.Span, out var width, out var height) || fields.Size is { } size && size != frame.Length)
        {
            frame.Release();
            _context.Stats.CountDropped();
            return;
        }
        // The producer's capture time: every hub stamps the frame alike (X-Timestamp), so viewers
        // of different hubs can tell they saw the same frame.
        frame.TimestampMicros = fields.TimeMicros ?? Clock.UnixMicrosNow();
        if (fields.Sequence is { } sequence)
        {
            if (_producerSequence != 0 && sequence > _producerSequence + 1)
            {
                Interlocked.Add(ref _gaps, sequence - _producerSequence - 1);
            }
            _producerSequence = sequence;
        }
        _received.Accept(frame, width, height);
        Offer(frame);
    }

    /// <summary>A beat on the demand subject once a second while anyone here watches, and at once when someone starts.</summary>
    private async Task TellDemandAsync(CancellationToken stop)
    {
        var hub = _context.Hub;
        using var changes = new DemandWatch(hub);
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
                await changes.WaitAsync(BusSubjects.DemandInterval, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>A subscription that hands each message to <see cref="Accept"/> on the reader thread, without a channel.</summary>
    private sealed class FrameSubscription(BusSource owner, NatsConnection connection, CancellationToken cancellation)
        : NatsSubBase(connection, ((INatsConnection)connection).SubscriptionManager, owner._framesSubject, queueGroup: null, opts: null, cancellation)
    {
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the client ends the subscription (it is not ended by reconnects).</summary>
        public Task Ended => _ended.Task;

        protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer)
        {
            owner.Accept(headersBuffer, payloadBuffer);
            return ValueTask.CompletedTask;
        }

        // The base class may call this from its constructor, before this class's constructor body: only the field initializer has run.
        protected override void TryComplete() => _ended?.TrySetResult();
    }

    /// <summary>The frame headers the producer sets (<see cref="BusSubjects"/>), read from the raw "NATS/1.0" header block.</summary>
    internal readonly record struct FrameHeaders(long? Sequence, long? TimeMicros, long? Size)
    {
        private const int MaxHeaderBytes = 1024;

        public static FrameHeaders Parse(in ReadOnlySequence<byte> block)
        {
            if (block.Length > MaxHeaderBytes)
            {
                return default;
            }
            Span<byte> bytes = stackalloc byte[(int)block.Length];
            block.CopyTo(bytes);
            return Parse(bytes);
        }

        public static FrameHeaders Parse(ReadOnlySpan<byte> block)
        {
            long? sequence = null, time = null, size = null;
            // The first line is the version ("NATS/1.0", maybe with a status); then "Name: value" lines.
            var newline = block.IndexOf("\r\n"u8);
            var rest = newline < 0 ? default : block[(newline + 2)..];
            while (rest.Length > 0)
            {
                var end = rest.IndexOf("\r\n"u8);
                var line = end < 0 ? rest : rest[..end];
                rest = end < 0 ? default : rest[(end + 2)..];
                var colon = line.IndexOf((byte)':');
                if (colon <= 0)
                {
                    continue;
                }
                var name = line[..colon];
                var value = line[(colon + 1)..].Trim((byte)' ');
                // The last value of a repeated header wins, as TryGetLastValue did.
                if (name.SequenceEqual("Ve-Seq"u8))
                {
                    sequence = Number(value) ?? sequence;
                }
                else if (name.SequenceEqual("Ve-Time"u8))
                {
                    time = Number(value) ?? time;
                }
                else if (name.SequenceEqual("Ve-Size"u8))
                {
                    // A size that is not a number matches no payload: the frame is dropped.
                    size = Number(value) ?? -1;
                }
            }
            return new FrameHeaders(sequence, time, size);
        }

        private static long? Number(ReadOnlySpan<byte> digits) =>
            digits.Length > 0 && System.Buffers.Text.Utf8Parser.TryParse(digits, out long n, out var used) && used == digits.Length && n >= 0 ? n : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: bus subscription ended ({Reason}); subscribing again")]
    private static partial void LogSubscriptionFailed(ILogger logger, string camera, string reason);
}
