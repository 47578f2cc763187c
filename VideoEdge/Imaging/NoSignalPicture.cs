using System.Reflection;
using OpenCvSharp;
using VideoEdge.Frames;

namespace VideoEdge.Imaging;

/// <summary>
/// The frame viewers get while a source is down: "NO SIGNAL", the reason and the UTC time, at the
/// camera's size. Without OpenCV it is a small JPEG embedded in the binary.
/// </summary>
public sealed class NoSignalPicture(int width, int height, int quality) : IDisposable
{
    private static readonly Lazy<byte[]> s_embedded = new(LoadEmbedded);
    private Mat? _canvas;
    private JpegEncoder? _encoder;

    public Frame Render(string reason, FramePool pool)
    {
        Frame frame;
        if (OpenCvRuntime.IsAvailable)
        {
            _encoder ??= new JpegEncoder(quality);
            _canvas ??= new Mat(height, width, MatType.CV_8UC3);
            Draw(_canvas, reason);
            frame = _encoder.Encode(_canvas, pool);
        }
        else
        {
            frame = pool.RentCopy(s_embedded.Value);
            frame.Width = EmbeddedWidth;
            frame.Height = EmbeddedHeight;
        }
        frame.IsNoSignal = true;
        frame.TimestampMicros = Clock.UnixMicrosNow();
        return frame;
    }

    public const int EmbeddedWidth = 320;
    public const int EmbeddedHeight = 240;

    private static void Draw(Mat canvas, string reason)
    {
        canvas.SetTo(new Scalar(32, 32, 32));
        int w = canvas.Width, h = canvas.Height;
        var scale = Math.Max(0.4, Math.Min(w / 640.0, h / 480.0));
        var big = 2.0 * scale;
        var thickness = Math.Max(1, (int)(3 * scale));
        var title = "NO SIGNAL";
        var size = Cv2.GetTextSize(title, HersheyFonts.HersheySimplex, big, thickness, out _);
        Cv2.PutText(canvas, title, new Point((w - size.Width) / 2, h / 2 - (int)(20 * scale)), HersheyFonts.HersheySimplex, big, new Scalar(255, 255, 255), thickness, LineTypes.AntiAlias);
        var small = 0.7 * scale;
        var thin = Math.Max(1, (int)(1.5 * scale));
        foreach (var (text, row) in new[] { (Shorten(reason, w, small), 1), (DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", System.Globalization.CultureInfo.InvariantCulture), 2) })
        {
            var s = Cv2.GetTextSize(text, HersheyFonts.HersheySimplex, small, thin, out _);
            Cv2.PutText(canvas, text, new Point(Math.Max(4, (w - s.Width) / 2), h / 2 + (int)(row * 34 * scale)), HersheyFonts.HersheySimplex, small, new Scalar(200, 200, 255), thin, LineTypes.AntiAlias);
        }
    }

    private static string Shorten(string text, int width, double scale)
    {
        var max = Math.Max(8, (int)(width / (15 * scale)));
        return text.Length <= max ? text : text[..(max - 1)] + "…";
    }

    private static byte[] LoadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("web/nosignal.jpg")
            ?? throw new InvalidOperationException("nosignal.jpg is not embedded");
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    public void Dispose()
    {
        _encoder?.Dispose();
        _canvas?.Dispose();
    }
}
