using OpenCvSharp;
using VideoEdge.Imaging;
using VideoEdge.Frames;

namespace VideoEdge.Sources;

/// <summary>
/// A moving picture that needs no hardware: colour bars, a bouncing ball, the frame number and the
/// UTC clock. Rendering and encoding are skipped while --slowdown is on and nobody watches.
/// </summary>
public sealed class TestPatternSource(CaptureContext context) : IFrameSource
{
    private readonly FramePacer _pacer = new(context.Options.Fps);
    private Mat? _background;
    private Mat? _canvas;
    private JpegEncoder? _encoder;
    private long _frameNumber;

    public string Kind => "test";
    public string Description => "test pattern";
    public int Width => context.Options.Width;
    public int Height => context.Options.Height;
    public double Fps => context.Options.Fps;

    public void Open(CancellationToken cancellation)
    {
        try
        {
            OpenCvRuntime.Ensure("The test pattern");
        }
        catch (OpenCvMissingException ex)
        {
            throw new SourceFaultException(ex.Message, ex);
        }
        _encoder ??= new JpegEncoder(context.Options.Quality);
        _background ??= DrawBackground(Width, Height);
        _canvas ??= new Mat(Height, Width, MatType.CV_8UC3);
        _pacer.Reset();
    }

    public Frame? Capture(CancellationToken cancellation)
    {
        if (!_pacer.Wait(cancellation))
        {
            throw new OperationCanceledException(cancellation);
        }
        _frameNumber++;
        context.Stats.CountCaptured();
        if (!context.ShouldEncode)
        {
            return null;
        }
        var canvas = _canvas!;
        _background!.CopyTo(canvas);
        DrawMovingParts(canvas, _frameNumber, context.Options.Fps);
        var frame = _encoder!.Encode(canvas, context.Pool);
        frame.TimestampMicros = Clock.UnixMicrosNow();
        context.Stats.CountEncoded(_encoder.LastEncodeTime);
        return frame;
    }

    public void Close() => _pacer.Reset();

    public TimeSpan RetryDelay(int failures) => TimeSpan.FromSeconds(Math.Min(10, failures));

    public void Dispose()
    {
        _encoder?.Dispose();
        _canvas?.Dispose();
        _background?.Dispose();
    }

    private static Mat DrawBackground(int width, int height)
    {
        var image = new Mat(height, width, MatType.CV_8UC3, Scalar.Black);
        Scalar[] bars =
        [
            new(192, 192, 192), new(0, 192, 192), new(192, 192, 0), new(0, 192, 0),
            new(192, 0, 192), new(0, 0, 192), new(192, 0, 0),
        ];
        var barHeight = height * 2 / 3;
        for (var i = 0; i < bars.Length; i++)
        {
            var x0 = width * i / bars.Length;
            var x1 = width * (i + 1) / bars.Length;
            Cv2.Rectangle(image, new Rect(x0, 0, x1 - x0, barHeight), bars[i], -1);
        }
        for (var x = 0; x < width; x += 8)
        {
            var level = 255 * x / Math.Max(1, width - 1);
            Cv2.Rectangle(image, new Rect(x, barHeight, 8, height - barHeight), new Scalar(level, level, level), -1);
        }
        return image;
    }

    private static void DrawMovingParts(Mat canvas, long frameNumber, double fps)
    {
        int w = canvas.Width, h = canvas.Height;
        var scale = Math.Max(0.5, h / 480.0);
        var thickness = Math.Max(1, (int)(2 * scale));
        var lineHeight = (int)(36 * scale);
        var boxHeight = lineHeight * 2 + (int)(16 * scale);

        // The ball moves above the caption box so the counter and clock stay readable.
        var radius = Math.Max(8, Math.Min(w, h) / 12);
        var t = frameNumber / Math.Max(1.0, fps);
        var cx = (int)(radius + (w - 2 * radius) * (0.5 + 0.5 * Math.Sin(t * 1.3)));
        var cy = (int)(radius + Math.Max(0, h - boxHeight - 2 * radius) * (0.5 + 0.5 * Math.Sin(t * 2.1 + 1)));
        Cv2.Circle(canvas, new Point(cx, cy), radius, Scalar.White, -1, LineTypes.AntiAlias);
        Cv2.Circle(canvas, new Point(cx, cy), radius, Scalar.Black, Math.Max(2, radius / 8), LineTypes.AntiAlias);

        Cv2.Rectangle(canvas, new Rect(0, h - boxHeight, w, boxHeight), Scalar.Black, -1);
        var origin = new Point((int)(12 * scale), h - boxHeight + lineHeight);
        Cv2.PutText(canvas, $"VideoEdge test pattern  #{frameNumber}", origin, HersheyFonts.HersheySimplex, scale, Scalar.White, thickness, LineTypes.AntiAlias);
        Cv2.PutText(canvas, DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", System.Globalization.CultureInfo.InvariantCulture),
            origin with { Y = origin.Y + lineHeight }, HersheyFonts.HersheySimplex, scale, Scalar.White, thickness, LineTypes.AntiAlias);
    }
}
