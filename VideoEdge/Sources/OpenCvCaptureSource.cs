using OpenCvSharp;
using VideoEdge.Imaging;
using VideoEdge.Frames;

namespace VideoEdge.Sources;

/// <summary>
/// Video files (through OpenCV's bundled FFmpeg, which reads files but has no network protocols) and
/// cameras by OpenCV index (device paths go to the native V4l2Source, network URLs to
/// FfmpegProcessSource). Every frame is decoded by OpenCV and encoded once.
/// </summary>
public sealed class OpenCvCaptureSource : IFrameSource
{
    private readonly CaptureContext _context;
    private readonly string _target;
    // Made in Open, after OpenCvRuntime.Ensure: constructing it earlier would load OpenCV when the
    // camera is created, and crash the start where OpenCV is missing instead of reporting it.
    private Mat? _image;
    private VideoCapture? _capture;
    private JpegEncoder? _encoder;
    private FramePacer? _pacer;
    private double _fps;
    private int _width;
    private int _height;

    public OpenCvCaptureSource(CaptureContext context, string target)
    {
        _context = context;
        _target = target;
        _fps = context.Options.Fps;
        _width = context.Options.Width;
        _height = context.Options.Height;
    }

    public string Kind => "file";
    public string Description => _target;
    public int Width => _width;
    public int Height => _height;
    public double Fps => _fps;

    public void Open(CancellationToken cancellation)
    {
        try
        {
            OpenCvRuntime.Ensure($"Reading '{Description}'");
        }
        catch (OpenCvMissingException ex)
        {
            throw new SourceFaultException(ex.Message, ex);
        }
        _encoder ??= new JpegEncoder(_context.Options.Quality);
        _image ??= new Mat();
        _capture = new VideoCapture();
        if (!_capture.Open(_target, VideoCaptureAPIs.FFMPEG) || !_capture.IsOpened())
        {
            Close();
            throw new SourceFaultException($"cannot open video file '{_target}'");
        }
        var reported = _capture.Fps;
        _fps = !_context.Options.FpsGiven && reported is > 0 and < 1000 ? reported : _context.Options.Fps;
        _width = _capture.FrameWidth > 0 ? _capture.FrameWidth : _width;
        _height = _capture.FrameHeight > 0 ? _capture.FrameHeight : _height;
        // Files are read as fast as we like, so they need pacing.
        _pacer = new FramePacer(_fps);
    }

    public Frame? Capture(CancellationToken cancellation)
    {
        if (_pacer is not null && !_pacer.Wait(cancellation))
        {
            throw new OperationCanceledException(cancellation);
        }
        var capture = _capture ?? throw new SourceFaultException("not open");
        var image = _image!;
        if (!capture.Read(image) || image.Empty())
        {
            // End of file: loop from the start.
            capture.Set(VideoCaptureProperties.PosFrames, 0);
            if (!capture.Read(image) || image.Empty())
            {
                throw new SourceFaultException($"no frames could be read from '{_target}'");
            }
        }
        _context.Stats.CountCaptured();
        _context.Stats.CountDecoded();
        if (!_context.ShouldEncode)
        {
            return null;
        }
        _width = image.Width;
        _height = image.Height;
        var frame = _encoder!.Encode(image, _context.Pool);
        frame.TimestampMicros = Clock.UnixMicrosNow();
        _context.Stats.CountEncoded(_encoder.LastEncodeTime);
        return frame;
    }

    public void Close()
    {
        _capture?.Dispose();
        _capture = null;
    }

    public TimeSpan RetryDelay(int failures) => TimeSpan.FromSeconds(1);

    public void Dispose()
    {
        Close();
        _encoder?.Dispose();
        _image?.Dispose();
    }
}
