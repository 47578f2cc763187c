using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using VideoEdge.Frames;

namespace VideoEdge.Sources;

/// <summary>
/// rtsp://, http://, rtmp://… through the system's ffmpeg program, which decodes the stream and
/// hands us one JPEG per frame on a pipe. The OpenCV runtime's built-in FFmpeg reads files only (it
/// has no network protocols), and ffmpeg is the best-kept client for every camera protocol there is.
/// Each JPEG is copied once from the pipe buffer into a pooled frame.
/// </summary>
public sealed class FfmpegProcessSource : IFrameSource
{
    /// <summary>An upstream that yields no frame for this long is treated as gone.</summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(10);

    private readonly CaptureContext _context;
    private readonly string _url;
    private readonly byte[] _buffer;
    private Process? _process;
    private Stream? _output;
    private Timer? _watchdog;
    private CancellationTokenRegistration _stopping;
    private volatile string? _lastError;
    private int _start;
    private int _end;
    private int _width;
    private int _height;

    public FfmpegProcessSource(CaptureContext context, string url)
    {
        _context = context;
        _url = url;
        _buffer = new byte[Math.Max(1 << 20, context.Options.MaxFrameBytes * 2)];
        _width = context.Options.Width;
        _height = context.Options.Height;
    }

    public string Kind => "url";
    public string Description => Security.SourceText.Redact(_url);
    public int Width => _width;
    public int Height => _height;
    public double Fps => _context.Options.Fps;

    public void Open(CancellationToken cancellation)
    {
        var info = new ProcessStartInfo("ffmpeg")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // -rw_timeout ends a stalled network read; -r paces the output at --fps; -q:v maps --quality
        // (1-100) onto ffmpeg's JPEG scale (31 worst … 2 best).
        var qscale = Math.Clamp((int)Math.Round(31 - (_context.Options.Quality - 1) * 29 / 99.0), 2, 31);
        string[] args =
        [
            "-hide_banner", "-loglevel", "error", "-nostdin",
            "-rw_timeout", "5000000",
            "-i", _url,
            "-an", "-sn", "-dn",
            "-r", _context.Options.Fps.ToString(CultureInfo.InvariantCulture),
            "-c:v", "mjpeg", "-pix_fmt", "yuvj420p", "-q:v", qscale.ToString(CultureInfo.InvariantCulture),
            "-f", "mjpeg", "pipe:1",
        ];
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        _lastError = null;
        try
        {
            _process = Process.Start(info) ?? throw new SourceFaultException("ffmpeg did not start");
        }
        catch (Win32Exception ex)
        {
            throw new SourceFaultException($"network streams need the ffmpeg program, which is not installed (apt-get install ffmpeg): {ex.Message}", ex);
        }
        _process.ErrorDataReceived += (_, e) =>
        {
            if (!string.IsNullOrWhiteSpace(e.Data))
            {
                _lastError = e.Data.Trim();
            }
        };
        _process.BeginErrorReadLine();
        _output = _process.StandardOutput.BaseStream;
        _start = _end = 0;
        // A blocking pipe read cannot be cancelled; killing ffmpeg ends it (stall or shutdown).
        _watchdog = new Timer(static s => ((FfmpegProcessSource)s!).Kill(), this, StallTimeout, Timeout.InfiniteTimeSpan);
        _stopping = cancellation.Register(Kill);
    }

    public Frame? Capture(CancellationToken cancellation)
    {
        var (offset, length) = NextJpeg();
        _watchdog?.Change(StallTimeout, Timeout.InfiniteTimeSpan);
        _context.Stats.CountCaptured();
        _context.Stats.CountDecoded();
        if (JpegHeader.TryReadSize(_buffer.AsSpan(offset, length), out var w, out var h))
        {
            _width = w;
            _height = h;
        }
        if (!_context.ShouldEncode)
        {
            return null;
        }
        var frame = _context.Pool.RentCopy(_buffer.AsSpan(offset, length));
        frame.Width = _width;
        frame.Height = _height;
        frame.TimestampMicros = Clock.UnixMicrosNow();
        _context.Stats.CountEncoded(TimeSpan.Zero);
        return frame;
    }

    /// <summary>
    /// The next SOI…EOI run in the pipe. ffmpeg's JPEGs carry no thumbnails and stuff every 0xFF in
    /// the scan, so the first EOI after an SOI ends the frame.
    /// </summary>
    private (int Offset, int Length) NextJpeg()
    {
        var scanned = 2; // bytes after _start already searched for EOI (relative, so Fill may move the data)
        while (true)
        {
            var soi = _buffer.AsSpan(_start, _end - _start).IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD8]);
            if (soi < 0)
            {
                // Keep a trailing 0xFF: it may be the first half of the next SOI.
                _start = _end > _start && _buffer[_end - 1] == 0xFF ? _end - 1 : _end;
                scanned = 2;
                Fill();
                continue;
            }
            if (soi > 0)
            {
                _start += soi;
                scanned = 2;
            }
            var from = _start + Math.Max(2, scanned - 1);
            var eoi = _buffer.AsSpan(from, _end - from).IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]);
            if (eoi >= 0)
            {
                var offset = _start;
                var length = from + eoi + 2 - _start;
                _start += length;
                return (offset, length);
            }
            scanned = _end - _start;
            Fill();
        }
    }

    private void Fill()
    {
        if (_start > 0)
        {
            var kept = _end - _start;
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, kept);
            _end = kept;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            _start = _end = 0;
            throw new SourceFaultException($"a frame from '{Description}' exceeds {_buffer.Length / 2} bytes (--max-frame-bytes)");
        }
        var n = _output!.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0)
        {
            var error = _lastError;
            throw new SourceFaultException(error is null
                ? $"'{Description}' ended or sent nothing for {StallTimeout.TotalSeconds:0} s"
                : $"'{Description}': {error}");
        }
        _end += n;
    }

    private void Kill()
    {
        try
        {
            if (_process is { HasExited: false } p)
            {
                p.Kill();
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception)
        {
        }
    }

    public void Close()
    {
        _watchdog?.Dispose();
        _watchdog = null;
        _stopping.Dispose();
        Kill();
        _process?.WaitForExit(1000);
        _process?.Dispose();
        _process = null;
        _output = null;
    }

    /// <summary>Network streams back off up to 30 s.</summary>
    public TimeSpan RetryDelay(int failures) => TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, Math.Min(failures, 6) - 1)));

    public void Dispose() => Close();
}
