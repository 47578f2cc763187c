using Microsoft.Extensions.Logging;
using VideoEdge.Frames;
using VideoEdge.Imaging;
using VideoEdge.Security;

namespace VideoEdge.Sources;

/// <summary>
/// The one stage between a camera's source and its hub when the picture is to be changed: every
/// frame of any source (encoded here, passed through from a camera, relayed or pushed) goes
/// through the same decode, transform and encode. Without a transform the stage is not there at all.
/// </summary>
public sealed partial class TransformedSource(IFrameSource inner, FrameTransform transform, CaptureContext context) : IFrameSource
{
    /// <summary>Oversized frames are counted always but logged at most once a minute, whatever a peer sends.</summary>
    private readonly LogBudget _oversizedLog = new(TimeSpan.FromMinutes(1));
    private readonly ILogger _logger = context.LoggerFactory.CreateLogger("VideoEdge.Capture");
    private long _oversized;

    public string Kind => inner.Kind;
    public string Description => inner.Description;
    public int Width => transform.OutputSize(inner.Width, inner.Height).Width;
    public int Height => transform.OutputSize(inner.Width, inner.Height).Height;
    public double Fps => inner.Fps;

    public void Open(CancellationToken cancellation)
    {
        try
        {
            OpenCvRuntime.Ensure("--overlay, --rotate, --flip and --scale");
        }
        catch (OpenCvMissingException ex)
        {
            throw new SourceFaultException(ex.Message, ex) { IsPermanent = true };
        }
        inner.Open(cancellation);
    }

    public Frame? Capture(CancellationToken cancellation)
    {
        if (inner.Capture(cancellation) is not { } frame)
        {
            return null;
        }
        // Checked before anything decodes: relayed and pushed frames come from peers, and a decoder
        // allocates the size a frame declares, not the size it is.
        if (!JpegHeader.TryReadSize(frame.Span, out var width, out var height) || (long)width * height > context.Options.MaxFramePixels)
        {
            frame.Release();
            context.Stats.CountDropped();
            _oversized++;
            if (_oversizedLog.TryTake(out _))
            {
                LogOversized(_logger, context.CameraName, width, height, context.Options.MaxFramePixels, _oversized);
            }
            return null;
        }
        return transform.Apply(frame, context.Pool, context.Stats);
    }

    public void Close() => inner.Close();

    public TimeSpan RetryDelay(int failures) => inner.RetryDelay(failures);

    public void Dispose()
    {
        inner.Dispose();
        transform.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Camera {Camera}: dropped a frame declaring {Width}x{Height} (0x0: no readable size) before decoding it: over --max-frame-pixels {Limit} ({Count} such frames so far)")]
    private static partial void LogOversized(ILogger logger, string camera, int width, int height, long limit, long count);
}
