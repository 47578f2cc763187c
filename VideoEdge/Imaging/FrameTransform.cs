using System.Globalization;
using OpenCvSharp;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Frames;

namespace VideoEdge.Imaging;

/// <summary>
/// --rotate, --flip, --scale and --overlay applied to one camera's frames: decode the JPEG, change
/// the pixels, encode again. The working images and the encoder are kept from frame to frame; the
/// overlay text is formatted once a second, not once a frame.
/// </summary>
public sealed class FrameTransform : IDisposable
{
    private const HersheyFonts Font = HersheyFonts.HersheySimplex;
    private readonly EdgeOptions _options;
    private readonly string? _overlay;
    private Mat? _rotated;
    private Mat? _flipped;
    private Mat? _scaled;
    private JpegEncoder? _encoder;
    private string _text = "";
    private long _textSecond = -1;

    private FrameTransform(string cameraName, EdgeOptions options)
    {
        _options = options;
        _overlay = options.Overlay?.Replace("{name}", cameraName, StringComparison.Ordinal);
    }

    /// <summary>The transform the options ask for, or null when they ask for none (frames then pass untouched).</summary>
    public static FrameTransform? For(string cameraName, EdgeOptions options) =>
        options.TransformRequested ? new FrameTransform(cameraName, options) : null;

    /// <summary>The size of a <paramref name="width"/>×<paramref name="height"/> frame once transformed.</summary>
    public (int Width, int Height) OutputSize(int width, int height)
    {
        if (_options.Rotate is 90 or 270)
        {
            (width, height) = (height, width);
        }
        return (Scaled(width), Scaled(height));
    }

    private int Scaled(int pixels) => Math.Max(1, (int)Math.Round(pixels * _options.Scale));

    /// <summary>
    /// The transformed copy of <paramref name="input"/> (whose reference it takes over and releases),
    /// or null when the input does not decode (counted as dropped).
    /// </summary>
    public Frame? Apply(Frame input, FramePool pool, CameraStats stats)
    {
        var timestamp = input.TimestampMicros;
        Mat decoded;
        try
        {
            decoded = Cv2.ImDecode(input.Span, ImreadModes.Color);
        }
        finally
        {
            input.Release();
        }
        using (decoded)
        {
            if (decoded.Empty())
            {
                stats.CountDropped();
                return null;
            }
            stats.CountDecoded();
            var image = decoded;
            if (_options.Rotate != 0)
            {
                var turn = _options.Rotate switch { 90 => RotateFlags.Rotate90Clockwise, 180 => RotateFlags.Rotate180, _ => RotateFlags.Rotate90Counterclockwise };
                Cv2.Rotate(image, _rotated ??= new Mat(), turn);
                image = _rotated;
            }
            if (_options.FlipHorizontal || _options.FlipVertical)
            {
                var mode = _options.FlipHorizontal && _options.FlipVertical ? FlipMode.XY : _options.FlipHorizontal ? FlipMode.Y : FlipMode.X;
                Cv2.Flip(image, _flipped ??= new Mat(), mode);
                image = _flipped;
            }
            if (_options.Scale != 1)
            {
                // Area averaging keeps detail when shrinking; linear is the better guess when growing.
                Cv2.Resize(image, _scaled ??= new Mat(), new Size(Scaled(image.Width), Scaled(image.Height)), 0, 0,
                    _options.Scale < 1 ? InterpolationFlags.Area : InterpolationFlags.Linear);
                image = _scaled;
            }
            if (_overlay is not null)
            {
                DrawOverlay(image);
            }
            _encoder ??= new JpegEncoder(_options.Quality);
            var output = _encoder.Encode(image, pool);
            stats.CountEncoded(_encoder.LastEncodeTime);
            output.TimestampMicros = timestamp;
            return output;
        }
    }

    /// <summary>The text at the top left: white where the picture behind it is dark, black where it is light.</summary>
    private void DrawOverlay(Mat image)
    {
        var now = DateTime.UtcNow;
        var second = now.Ticks / TimeSpan.TicksPerSecond;
        if (second != _textSecond)
        {
            _text = _overlay!.Replace("{utc}", now.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture), StringComparison.Ordinal);
            _textSecond = second;
        }
        var scale = Math.Max(0.4, image.Height / 600.0);
        var thickness = Math.Max(1, (int)Math.Round(scale * 1.6));
        var size = Cv2.GetTextSize(_text, Font, scale, thickness, out var baseline);
        var margin = Math.Max(4, (int)(10 * scale));
        // A narrow picture (portrait after --rotate, a small --scale) gets smaller text rather than a cut-off line.
        if (size.Width > image.Width - 2 * margin && size.Width > 0)
        {
            scale = Math.Max(0.25, scale * (image.Width - 2 * margin) / size.Width);
            thickness = Math.Max(1, (int)Math.Round(scale * 1.6));
            size = Cv2.GetTextSize(_text, Font, scale, thickness, out baseline);
        }
        var behind = new Rect(margin, margin, Math.Min(size.Width, image.Width - margin), Math.Min(size.Height + baseline, image.Height - margin));
        var (mean, spread) = behind.Width <= 0 || behind.Height <= 0 ? (0, 0) : Luma(image, behind);
        var darkBehind = mean < 128;
        var origin = new Point(margin, margin + size.Height);
        // Over a mixed background (a dark bar beside a light one) no single colour reads everywhere:
        // there the text gets a thin outline in the opposite colour.
        if (spread > 48)
        {
            Cv2.PutText(image, _text, origin, Font, scale, darkBehind ? Scalar.Black : Scalar.White, thickness + 2, LineTypes.AntiAlias);
        }
        Cv2.PutText(image, _text, origin, Font, scale, darkBehind ? Scalar.White : Scalar.Black, thickness, LineTypes.AntiAlias);
    }

    /// <summary>
    /// Average brightness (0-255) of a BGR region and its standard deviation, from every other pixel
    /// of every other row.
    /// </summary>
    private static unsafe (double Mean, double Spread) Luma(Mat image, Rect region)
    {
        long sum = 0;
        long squares = 0;
        long count = 0;
        var step = image.Step();
        var data = (byte*)image.DataPointer;
        for (var y = region.Top; y < region.Bottom; y += 2)
        {
            var row = data + y * step;
            for (var x = region.Left; x < region.Right; x += 2)
            {
                var pixel = row + x * 3;
                var luma = (29 * pixel[0] + 150 * pixel[1] + 77 * pixel[2]) >> 8;
                sum += luma;
                squares += luma * luma;
                count++;
            }
        }
        if (count == 0)
        {
            return (0, 0);
        }
        var mean = (double)sum / count;
        return (mean, Math.Sqrt(Math.Max(0, (double)squares / count - mean * mean)));
    }

    public void Dispose()
    {
        _encoder?.Dispose();
        _rotated?.Dispose();
        _flipped?.Dispose();
        _scaled?.Dispose();
    }
}
