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
    private volatile string? _offlineReason = "starting";
    private volatile bool _online;

    public CaptureLoop(IFrameSource source, CaptureContext context)
    {
        _source = source;
        _context = context;
        _logger = context.LoggerFactory.CreateLogger("VideoEdge.Capture");
        _noSignal = new NoSignalPicture(context.Options.Width, context.Options.Height, context.Options.Quality);
        _thread = new Thread(Run) { IsBackground = true, Name = "capture " + context.CameraName };
    }

    public bool Online => _online;
    public string? OfflineReason => _online ? null : _offlineReason;

    /// <summary>Completes once the source has opened or its first failure started the retry loop.</summary>
    public Task Started => _started.Task;

    public void Start() => _thread.Start();

    private void Run()
    {
        var token = _stop.Token;
        var failures = 0;
        string? lastLoggedReason = null;
        while (!token.IsCancellationRequested)
        {
            string reason;
            try
            {
                _source.Open(token);
                _online = true;
                _started.TrySetResult();
                LogOpened(_logger, _context.CameraName, _source.Kind, _source.Description, _source.Width, _source.Height, _source.Fps);
                failures = 0;
                lastLoggedReason = null;
                while (true)
                {
                    var frame = _source.Capture(token);
                    _context.Stats.MarkProgress();
                    if (frame is not null)
                    {
                        _context.Hub.Publish(frame);
                        _context.Stats.CountPublished();
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
                LogUnexpected(_logger, _context.CameraName, ex);
            }
            finally
            {
                _online = false;
                _source.Close();
            }

            _offlineReason = reason;
            failures++;
            if (reason != lastLoggedReason)
            {
                LogOffline(_logger, _context.CameraName, _source.Description, reason);
                lastLoggedReason = reason;
            }
            _started.TrySetResult();
            ShowNoSignalUntil(DateTime.UtcNow + _source.RetryDelay(failures), reason, token);
        }
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
        while (DateTime.UtcNow < retryAt);
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
            LogUnexpected(_logger, _context.CameraName, ex);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        if (_thread.IsAlive && !_thread.Join(TimeSpan.FromSeconds(1.5)))
        {
            LogStuck(_logger, _context.CameraName);
        }
        _source.Dispose();
        _noSignal.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: {Kind} source '{Description}' open at {Width}x{Height} {Fps} fps")]
    private static partial void LogOpened(ILogger logger, string camera, string kind, string description, int width, int height, double fps);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: '{Description}' unavailable: {Reason}. Showing the no-signal picture and retrying.")]
    private static partial void LogOffline(ILogger logger, string camera, string description, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Camera {Camera}: unexpected capture error")]
    private static partial void LogUnexpected(ILogger logger, string camera, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: capture thread did not stop in time")]
    private static partial void LogStuck(ILogger logger, string camera);
}
