using System.Globalization;

namespace VideoEdge.Sources;

/// <summary>
/// rtsp://, http://, rtmp://… through the system's ffmpeg program, which decodes the stream and
/// hands us one JPEG per frame on a pipe: a <see cref="ChildProcessSource"/> with known arguments,
/// the same mechanism as an exec: source. The OpenCV runtime's built-in FFmpeg reads files only (it
/// has no network protocols), and ffmpeg is the best-kept client for every camera protocol there is.
/// </summary>
public static class FfmpegProcessSource
{
    public static ChildProcessSource Create(CaptureContext context, string url) =>
        new(context, "url", Security.SourceText.Redact(url), "ffmpeg", Arguments(context, url),
            notFoundHint: "network streams need it: apt-get install ffmpeg", programEncodes: true);

    private static string[] Arguments(CaptureContext context, string url)
    {
        // -rw_timeout ends a stalled network read; -r paces the output at --fps; -q:v maps --quality
        // (1-100) onto ffmpeg's JPEG scale (31 worst … 2 best).
        var qscale = Math.Clamp((int)Math.Round(31 - (context.Options.Quality - 1) * 29 / 99.0), 2, 31);
        return
        [
            "-hide_banner", "-loglevel", "error", "-nostdin",
            "-rw_timeout", "5000000",
            "-i", url,
            "-an", "-sn", "-dn",
            "-r", context.Options.Fps.ToString(CultureInfo.InvariantCulture),
            "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", qscale.ToString(CultureInfo.InvariantCulture),
            "-f", "mjpeg", "pipe:1",
        ];
    }
}
