using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OpenCvSharp;
using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Imaging;

namespace VideoEdge.Variants;

/// <summary>
/// One variant of a camera (a width and a quality): its own <see cref="FrameHub"/>, fed by decoding,
/// resizing and encoding the camera's frames — once per source frame however many viewers share it,
/// and only when one of them is ready for a new frame. A viewer that takes one frame every five
/// seconds costs one encode every five seconds, not one per camera frame.
/// </summary>
public sealed partial class Variant
{
    private readonly Camera _camera;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Subscription _feed;
    private readonly Lock _publishedLock = new();
    private TaskCompletionSource _published = NewSignal();
    private TaskCompletionSource _wantedSignal = NewSignal();
    private int _wanted;
    private Task _loop = Task.CompletedTask;
    private Task? _stopping;
    private Mat? _scaled;
    private JpegEncoder? _encoder;
    private long _sourceSequence;
    private int _holdsWanting;
    private long _encodes;
    private long _refused;
    private long _encodeTicks;
    private int _lastWidth;
    private int _lastHeight;

    internal Variant(Camera camera, VariantKey key, ILogger logger)
    {
        _camera = camera;
        _logger = logger;
        Key = key;
        View = new Camera(camera, Hub);
        // A viewer of this variant that asks for its next frame (its previous one has drained) is what
        // makes the next one: the encode follows what viewers take, not the camera's frame rate.
        Hub.Wanting = Want;
        // The feed is a viewer of the camera: it keeps an on-demand camera running and wakes on its frames.
        _feed = camera.Hub.Subscribe(new ViewerCounters(FeedTransport, key.ToString()), _stop.Token);
    }

    /// <summary>The transport name of a variant's own subscription to its camera (not a viewer; /api/state leaves it out).</summary>
    public const string FeedTransport = "variant";

    public VariantKey Key { get; }

    /// <summary>This variant's frames; its viewers subscribe here.</summary>
    public FrameHub Hub { get; } = new();

    /// <summary>The camera as this variant's viewers see it: same source, options and counters, this hub.</summary>
    public Camera View { get; }

    public long Encodes => Interlocked.Read(ref _encodes);
    public long Refused => Interlocked.Read(ref _refused);
    public TimeSpan EncodeTime => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _encodeTicks));
    public int Width => Volatile.Read(ref _lastWidth);
    public int Height => Volatile.Read(ref _lastHeight);

    /// <summary>Leases of this variant (viewers and snapshots being served); changed under the set's lock.</summary>
    internal int Leases { get; set; }

    internal void Start() => _loop = Task.Run(RunAsync);

    /// <summary>
    /// While held (a snapshot waiting for its frame), every new camera frame is encoded. Disposing it
    /// ends that; viewers of streams need none, their progress is what asks for frames.
    /// </summary>
    internal void HoldWanting(bool on)
    {
        if (Interlocked.Add(ref _holdsWanting, on ? 1 : -1) > 0)
        {
            Want();
        }
    }

    private void Want()
    {
        Volatile.Write(ref _wanted, 1);
        TaskCompletionSource signal;
        lock (_publishedLock)
        {
            signal = _wantedSignal;
        }
        signal.TrySetResult();
    }

    /// <summary>
    /// Returns once this variant's latest frame was made from the camera's latest frame (as of the call),
    /// so a viewer or snapshot that joins an existing variant starts on a current picture, not on the
    /// one a slow viewer asked for seconds ago. Bounded by <paramref name="timeout"/>.
    /// </summary>
    internal async Task CatchUpAsync(TimeSpan timeout, CancellationToken cancellation)
    {
        var target = _camera.Hub.LatestSequence;
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        HoldWanting(true);
        try
        {
            while (Volatile.Read(ref _sourceSequence) < target && !_loop.IsCompleted)
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    return;
                }
                Task published;
                lock (_publishedLock)
                {
                    published = _published.Task;
                }
                await published.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(left, 100)), cancellation).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
            // Checked again by the loop; the caller then serves what there is.
        }
        finally
        {
            HoldWanting(false);
        }
    }

    private async Task RunAsync()
    {
        var stopping = _stop.Token;
        try
        {
            OpenCvRuntime.Ensure("?width= and ?quality= variants");
            while (!stopping.IsCancellationRequested)
            {
                if (_camera.Hub.LatestSequence > _sourceSequence)
                {
                    Task wanted;
                    lock (_publishedLock)
                    {
                        if (_wantedSignal.Task.IsCompleted)
                        {
                            _wantedSignal = NewSignal();
                        }
                        wanted = _wantedSignal.Task;
                    }
                    // Checked after taking the signal: a want that lands in between completes it.
                    if (IsWanted())
                    {
                        Volatile.Write(ref _wanted, 0);
                        if (!Produce())
                        {
                            // Nothing published (refused, or the camera went off): the viewer still waits.
                            Volatile.Write(ref _wanted, 1);
                        }
                    }
                    else
                    {
                        await wanted.WaitAsync(stopping).ConfigureAwait(false);
                    }
                    continue;
                }
                if (!await _feed.WaitNewerAsync(_sourceSequence).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is OpenCvMissingException or OpenCVException or InvalidOperationException)
        {
            LogFailed(_logger, _camera.Name, Key.ToString(), ex.Message);
            // Viewers of a variant that cannot be made end instead of waiting forever.
            Hub.Dispose();
        }
    }

    /// <summary>
    /// Pull: a new frame is worth making only for a viewer that asked for one (it waits on the hub),
    /// when nothing is published yet, or while a snapshot holds.
    /// </summary>
    private bool IsWanted() =>
        Hub.LatestSequence == 0 || Volatile.Read(ref _holdsWanting) > 0 || Volatile.Read(ref _wanted) == 1;

    /// <summary>Encodes the camera's latest frame; false when nothing was published.</summary>
    private bool Produce()
    {
        Frame? output;
        using (var lease = _camera.Hub.AcquireLatest(out var sequence))
        {
            if (!lease.HasFrame)
            {
                // The camera was switched off on demand or is closing: wait for its next frame.
                _sourceSequence = sequence;
                return false;
            }
            Volatile.Write(ref _sourceSequence, lease.Frame.Sequence);
            output = Encode(lease.Frame);
        }
        if (output is not null)
        {
            Hub.Publish(output);
        }
        TaskCompletionSource published;
        lock (_publishedLock)
        {
            published = _published;
            _published = NewSignal();
        }
        published.TrySetResult();
        return output is not null;
    }

    /// <summary>Decode, resize, encode: a new frame of the camera's pool, or null (refused or undecodable).</summary>
    private Frame? Encode(Frame source)
    {
        // Checked before decoding, as the transform stage does: a relayed or pushed frame declares its
        // size, and a decoder allocates what is declared.
        if (!JpegHeader.TryReadSize(source.Span, out var width, out var height) || (long)width * height > _camera.Options.MaxFramePixels)
        {
            Interlocked.Increment(ref _refused);
            return null;
        }
        var started = Stopwatch.GetTimestamp();
        using var decoded = Cv2.ImDecode(source.Span, ImreadModes.Color);
        if (decoded.Empty())
        {
            Interlocked.Increment(ref _refused);
            return null;
        }
        var (w, h) = Key.OutputSize(decoded.Width, decoded.Height);
        var image = decoded;
        if (w != decoded.Width || h != decoded.Height)
        {
            // Area averaging keeps detail when shrinking (variants never grow the picture).
            Cv2.Resize(decoded, _scaled ??= new Mat(), new Size(w, h), 0, 0, InterpolationFlags.Area);
            image = _scaled;
        }
        _encoder ??= new JpegEncoder(Key.Quality);
        var output = _encoder.Encode(image, _camera.Pool);
        output.TimestampMicros = source.TimestampMicros;
        output.IsNoSignal = source.IsNoSignal;
        Interlocked.Add(ref _encodeTicks, Stopwatch.GetTimestamp() - started);
        Interlocked.Increment(ref _encodes);
        Volatile.Write(ref _lastWidth, w);
        Volatile.Write(ref _lastHeight, h);
        return output;
    }

    /// <summary>Stops producing, ends its viewers' waits and returns its frames and native buffers.</summary>
    internal Task StopAsync()
    {
        lock (_publishedLock)
        {
            return _stopping ??= StopOnceAsync();
        }
    }

    private async Task StopOnceAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _feed.Dispose();
        await _loop.ConfigureAwait(false);
        Hub.Dispose();
        _scaled?.Dispose();
        _encoder?.Dispose();
        _stop.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "Camera {Camera}: variant {Variant} cannot be made: {Reason}")]
    private static partial void LogFailed(ILogger logger, string camera, string variant, string reason);
}
