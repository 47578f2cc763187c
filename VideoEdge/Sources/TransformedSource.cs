using VideoEdge.Frames;
using VideoEdge.Imaging;

namespace VideoEdge.Sources;

/// <summary>
/// The one stage between a camera's source and its hub when the picture is to be changed: every
/// frame of any source (encoded here, passed through from a camera, relayed or pushed) goes
/// through the same decode, transform and encode. Without a transform the stage is not there at all.
/// </summary>
public sealed class TransformedSource(IFrameSource inner, FrameTransform transform, CaptureContext context) : IFrameSource
{
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

    public Frame? Capture(CancellationToken cancellation) =>
        inner.Capture(cancellation) is { } frame ? transform.Apply(frame, context.Pool, context.Stats) : null;

    public void Close() => inner.Close();

    public TimeSpan RetryDelay(int failures) => inner.RetryDelay(failures);

    public void Dispose()
    {
        inner.Dispose();
        transform.Dispose();
    }
}
