using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using VideoEdge.Imaging;

namespace VideoEdge.Sources;

/// <summary>
/// Runs one source on its own thread (capture blocks, so it never borrows a thread-pool thread):
/// open, capture and publish; on a fault publish the no-signal picture once a second and reopen
/// after the source's retry delay, for as long as the process lives.
/// </summary>
public sealed partial class CaptureLoop : IDisposable
{
    private readonly IFrameSource _source;
    private readonly CaptureContext _context;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly NoSignalPicture _noSignal;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly AutoResetEvent _demandArrived = new(false);
    private readonly bool _onDemand;
    private volatile string? _offlineReason = "starting";
    private volatile CaptureState _state = CaptureState.Starting;
    private long _lastDemand = Environment.TickCount64;

    public CaptureLoop(IFrameSource source, CaptureContext context)
    {
        _source = source;
        _context = context;
        _logger = context.LoggerFactory.CreateLogger("VideoEdge.Capture");
        _noSignal = new NoSignalPicture(context.Options.Width, context.Options.Height, context.Options.Quality);
        _thread = new Thread(Run) { IsBackground = true, Name = "capture " + context.CameraName };
        // A producer fed camera (a WebSocket producer, or one on the bus) already pauses its producer
        // when nobody watches, and its source must stay subscribed to hear the first request.
        _onDemand = context.Options.OnDemand > TimeSpan.Zero && source.Kind is not (SourceFactory.RemoteKind or SourceFactory.BusKind);
        if (_onDemand)
        {
            context.Hub.DemandChanged += () => _demandArrived.Set();
        }
    }

    /// <summary>Frames flow (Live), the source was switched off on demand (Idle), or it is retried after a fault (Offline).</summary>
    public CaptureState State => _state;

    /// <summary>Live, or idle by choice: not faulted and not still opening.</summary>
    public bool Online => _state is CaptureState.Live or CaptureState.Idle;
    public string? OfflineReason => Online ? null : _offlineReason;

    /// <summary>Completes once the source has opened or its first failure started the retry loop.</summary>
    public Task Started => _started.Task;

    public void Start() => _thread.Start();

    private void Run()
    {
        var token = _stop.Token;
        var failures = 0;
        string? lastLoggedReason = null;
        long wokenAt = 0;
        while (!token.IsCancellationRequested)
        {
            if (IdleDue())
            {
                if (!StayIdle(token))
                {
                    break;
                }
                wokenAt = Environment.TickCount64;
            }
            string? reason = null;
            try
            {
                _source.Open(token);
                _state = CaptureState.Live;
                _started.TrySetResult();
                LogOpened(_context.CameraName, _source.Kind, _source.Description, _source.Width, _source.Height, _source.Fps);
                failures = 0;
                lastLoggedReason = null;
                while (!IdleDue())
                {
                    var frame = _source.Capture(token);
                    _context.Stats.MarkProgress();
                    if (frame is not null)
                    {
                        _context.Hub.Publish(frame);
                        _context.Stats.CountPublished();
                        if (wokenAt != 0)
                        {
                            LogWoken(_context.CameraName, Environment.TickCount64 - wokenAt);
                            wokenAt = 0;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                break;
            }
            // Reasons are shown to viewers (no-signal picture, /healthz) and often quote the URL
            // (ffmpeg's errors do): redacted here, once, for all of them.
            catch (SourceFaultException ex)
            {
                reason = Security.SourceText.Redact(ex.Message);
            }
            catch (Exception ex)
            {
                reason = Security.SourceText.Redact("capture failed: " + ex.Message);
                LogUnexpected(_context.CameraName, ex);
            }
            finally
            {
                _source.Close();
            }
            if (reason is null)
            {
                // Nobody watched for --on-demand seconds: the source is closed; idle at the loop's top.
                continue;
            }

            _offlineReason = reason;
            _state = CaptureState.Offline;
            wokenAt = 0;
            failures++;
            // The same fault with other counts (e.g. "12 dropped" then "15 dropped") is logged once.
            var shape = Digits().Replace(reason, "#");
            if (shape != lastLoggedReason)
            {
                LogOffline(_context.CameraName, _source.Description, reason);
                lastLoggedReason = shape;
            }
            _started.TrySetResult();
            ShowNoSignalUntil(DateTime.UtcNow + _source.RetryDelay(failures), reason, token);
        }
    }

    /// <summary>With --on-demand: true once nobody has watched or asked for a snapshot for that long.</summary>
    private bool IdleDue()
    {
        if (!_onDemand)
        {
            return false;
        }
        var now = Environment.TickCount64;
        if (_context.Hub.HasDemand)
        {
            Volatile.Write(ref _lastDemand, now);
            return false;
        }
        return now - Volatile.Read(ref _lastDemand) >= (long)_context.Options.OnDemand.TotalMilliseconds;
    }

    /// <summary>How often an idle camera's capture thread says it is alive (see <see cref="StayIdle"/>).</summary>
    private static readonly TimeSpan IdleHeartbeat = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The source is closed; waits for the first viewer or snapshot request. The last frame is dropped
    /// so nobody is shown a stale picture as live: newcomers wait for the first fresh frame. Progress is
    /// still marked, as the capture thread is healthy and responsive. False when the server stops.
    /// </summary>
    private bool StayIdle(CancellationToken token)
    {
        _state = CaptureState.Idle;
        _context.Hub.DropLatest();
        LogIdle(_context.CameraName, _context.Options.OnDemand.TotalSeconds);
        WaitHandle[] wake = [_demandArrived, token.WaitHandle];
        while (!_context.Hub.HasDemand)
        {
            _context.Stats.MarkProgress();
            // Well inside the systemd watchdog's stall limit, which is WatchdogSec= itself (a unit may
            // set 1 s): marked once a second, an idle camera counted as stalled whenever a round fell
            // just before the mark.
            WaitHandle.WaitAny(wake, IdleHeartbeat);
            if (token.IsCancellationRequested)
            {
                return false;
            }
        }
        Volatile.Write(ref _lastDemand, Environment.TickCount64);
        _offlineReason = "starting";
        _state = CaptureState.Starting;
        LogWaking(_context.CameraName);
        return true;
    }

    private void ShowNoSignalUntil(DateTime retryAt, string reason, CancellationToken token)
    {
        do
        {
            PublishNoSignal(reason);
            var wait = retryAt - DateTime.UtcNow;
            if (wait > TimeSpan.FromSeconds(1))
            {
                wait = TimeSpan.FromSeconds(1);
            }
            if (wait > TimeSpan.Zero && token.WaitHandle.WaitOne(wait))
            {
                return;
            }
        }
        while (DateTime.UtcNow < retryAt && !IdleDue());
    }

    private void PublishNoSignal(string reason)
    {
        try
        {
            var frame = _noSignal.Render(reason, _context.Pool);
            _context.Hub.Publish(frame);
            _context.Stats.CountNoSignal();
            _context.Stats.MarkProgress();
        }
        catch (Exception ex)
        {
            LogUnexpected(_context.CameraName, ex);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        if (_thread.IsAlive && !_thread.Join(TimeSpan.FromSeconds(1.5)))
        {
            LogStuck(_context.CameraName);
        }
        _source.Dispose();
        _noSignal.Dispose();
        _demandArrived.Dispose();
        _stop.Dispose();
    }

    [GeneratedRegex("[0-9]+")]
    private static partial Regex Digits();

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: {Kind} source '{Description}' open at {Width}x{Height} {Fps} fps")]
    private partial void LogOpened(string camera, string kind, string description, int width, int height, double fps);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: '{Description}' unavailable: {Reason}. Showing the no-signal picture and retrying.")]
    private partial void LogOffline(string camera, string description, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: nobody watching for {Seconds} s, switched off until the next viewer or snapshot (--on-demand)")]
    private partial void LogIdle(string camera, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: switching on for a viewer")]
    private partial void LogWaking(string camera);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: first frame {Milliseconds} ms after switching on")]
    private partial void LogWoken(string camera, long milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Camera {Camera}: unexpected capture error")]
    private partial void LogUnexpected(string camera, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: capture thread did not stop in time")]
    private partial void LogStuck(string camera);
}

/// <summary>Where a camera's capture stands, as /api/state, /api/cameras and /metrics report it.</summary>
public enum CaptureState { Starting, Live, Idle, Offline }
