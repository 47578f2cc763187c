using System.Net.Http.Headers;
using System.Text;
using VideoEdge.Frames;
using VideoEdge.Sources;

namespace VideoEdge.Relay;

/// <summary>
/// mjpeg+http(s)://…: re-serves another server's MJPEG stream (VideoEdge, µStreamer, mjpg-streamer,
/// an IP camera) without decoding it. Each part is checked for JPEG markers and copied once, from
/// the receive buffer into a pooled frame, so viewers get the upstream bytes unchanged.
/// Redirects are not followed by default (a 302 must not turn the relay into a fetcher of any
/// address the server can reach); with --relay-follow-redirects only to the same host and port.
/// </summary>
public sealed class MjpegRelaySource : IFrameSource
{
    /// <summary>
    /// An upstream that delivers no valid JPEG for this long is treated as gone: a dead peer sends no
    /// FIN, and one that sends only broken or oversized parts (or drips bytes) shows viewers nothing.
    /// </summary>
    public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(10);

    private const int MaxRedirects = 5;

    private readonly CaptureContext _context;
    private readonly Uri _url;
    private readonly AuthenticationHeaderValue? _authorization;
    private HttpClient? _http;
    private HttpResponseMessage? _response;
    private Stream? _stream;
    private MultipartMjpegParser? _parser;
    private CancellationTokenSource? _watchdog;
    private int _width;
    private int _height;
    private long _droppedSinceFrame;
    private long _bytesSinceFrame;

    /// <param name="url">The upstream http:// or https:// URL (the "mjpeg+" prefix removed).</param>
    public MjpegRelaySource(CaptureContext context, string url)
    {
        _context = context;
        _url = new Uri(url);
        if (_url.UserInfo.Length > 0)
        {
            // Credentials in the URL become Basic auth; like a query string, they never appear in Description or logs.
            _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(_url.UserInfo))));
            _url = new UriBuilder(_url) { UserName = "", Password = "" }.Uri;
        }
        Description = Security.SourceText.Redact("mjpeg+" + _url);
        _width = context.Options.Width;
        _height = context.Options.Height;
    }

    public string Kind => "relay";
    public string Description { get; }
    public int Width => _width;
    public int Height => _height;
    public double Fps => _context.Stats.CaptureRate.PerSecond;

    public void Open(CancellationToken cancellation)
    {
        // Redirects are checked here, not by the handler: it follows them to any host or port.
        _http ??= new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), AllowAutoRedirect = false }) { Timeout = Timeout.InfiniteTimeSpan };
        _watchdog = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        _watchdog.CancelAfter(StallTimeout);
        var url = _url;
        for (var redirects = 0; ; redirects++)
        {
            _response = Send(url, cancellation);
            if ((int)_response.StatusCode is not (301 or 302 or 303 or 307 or 308))
            {
                break;
            }
            url = RedirectTarget(url, _response, redirects);
            _response.Dispose();
        }
        if (!_response.IsSuccessStatusCode)
        {
            throw new SourceFaultException($"'{Description}' answered HTTP {(int)_response.StatusCode} {_response.ReasonPhrase}");
        }
        var type = _response.Content.Headers.ContentType;
        if (type?.MediaType is not { } media || !media.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            throw new SourceFaultException($"'{Description}' is not an MJPEG stream (Content-Type: {type?.ToString() ?? "none"})");
        }
        var boundary = type.Parameters.FirstOrDefault(p => p.Name.Equals("boundary", StringComparison.OrdinalIgnoreCase))?.Value;
        _parser = new MultipartMjpegParser(boundary, _context.Options.MaxFrameBytes);
        _stream = _response.Content.ReadAsStream(_watchdog.Token);
        _droppedSinceFrame = 0;
        _bytesSinceFrame = 0;
        // From here the watchdog is reset by valid frames only (see Capture).
        _watchdog.CancelAfter(StallTimeout);
        // A blocking read cannot be cancelled; disposing the response ends it (on stop or stall).
        _watchdog.Token.UnsafeRegister(static r => ((HttpResponseMessage)r!).Dispose(), _response);
    }

    private HttpResponseMessage Send(Uri url, CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Authorization = _authorization;
        try
        {
            return _http!.Send(request, HttpCompletionOption.ResponseHeadersRead, _watchdog!.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            cancellation.ThrowIfCancellationRequested();
            throw new SourceFaultException(ex is OperationCanceledException
                ? $"'{Description}' did not answer within {StallTimeout.TotalSeconds:0} s"
                : $"cannot connect to '{Description}': {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Where a redirect may be followed to: only with --relay-follow-redirects, only over http(s) to
    /// the configured host and port (the credentials from the URL go there too). Anything else is a
    /// fault whose reason says why, so the user can configure the final URL instead.
    /// </summary>
    private Uri RedirectTarget(Uri from, HttpResponseMessage response, int redirects)
    {
        var code = (int)response.StatusCode;
        if (response.Headers.Location is not { } location)
        {
            throw new SourceFaultException($"'{Description}' answered HTTP {code} without a valid Location");
        }
        var target = location.IsAbsoluteUri ? location : new Uri(from, location);
        // Scheme, host and path only: a query or user info in the Location may hold a secret.
        var shown = target.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        if (!_context.Options.RelayFollowRedirects)
        {
            throw new SourceFaultException($"'{Description}' redirects (HTTP {code}) to {shown}: not followed (configure that URL, or --relay-follow-redirects for redirects on the same host)");
        }
        if (target.Scheme is not ("http" or "https")
            || !string.Equals(target.IdnHost, _url.IdnHost, StringComparison.OrdinalIgnoreCase)
            || target.Port != _url.Port)
        {
            throw new SourceFaultException($"'{Description}' redirects (HTTP {code}) to {shown}: not followed, it is not the same host and port");
        }
        if (redirects >= MaxRedirects)
        {
            throw new SourceFaultException($"'{Description}' redirects more than {MaxRedirects} times");
        }
        return target;
    }

    public Frame? Capture(CancellationToken cancellation)
    {
        var parser = _parser ?? throw new SourceFaultException("not open");
        while (true)
        {
            PartStatus status;
            ReadOnlySpan<byte> part;
            try
            {
                status = parser.TryReadPart(out part);
            }
            catch (InvalidDataException ex)
            {
                throw new SourceFaultException($"'{Description}': {ex.Message}", ex);
            }
            if (status == PartStatus.Part && JpegHeader.TryInspect(part, out var width, out var height))
            {
                _watchdog!.CancelAfter(StallTimeout);
                _droppedSinceFrame = 0;
                _bytesSinceFrame = 0;
                _context.Stats.CountCaptured();
                _context.Stats.CountPassthrough();
                var frame = _context.Pool.RentCopy(part);
                frame.TimestampMicros = Clock.UnixMicrosNow();
                frame.Width = _width = width;
                frame.Height = _height = height;
                return frame;
            }
            if (status != PartStatus.NeedMoreData)
            {
                // Too large, or not a whole JPEG: one bad part costs only itself.
                _context.Stats.CountDropped();
                _droppedSinceFrame++;
                continue;
            }
            Read(parser, cancellation);
        }
    }

    private void Read(MultipartMjpegParser parser, CancellationToken cancellation)
    {
        int n;
        try
        {
            n = _stream!.Read(parser.GetWriteMemory().Span);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or HttpRequestException or OperationCanceledException)
        {
            cancellation.ThrowIfCancellationRequested();
            throw new SourceFaultException(_watchdog!.IsCancellationRequested ? StallReason() : $"lost '{Description}': {ex.Message}", ex);
        }
        if (n == 0)
        {
            throw new SourceFaultException($"'{Description}' ended the stream");
        }
        _bytesSinceFrame += n;
        parser.Advance(n);
    }

    private string StallReason() => _bytesSinceFrame == 0
        ? $"'{Description}' sent nothing for {StallTimeout.TotalSeconds:0} s"
        : $"'{Description}' sends no valid JPEG: {_droppedSinceFrame} dropped, {_bytesSinceFrame} bytes in {StallTimeout.TotalSeconds:0} s";

    public void Close()
    {
        _watchdog?.Dispose();
        _watchdog = null;
        // Disposing the response disposes the stream read from its content (what the watchdog relies on too).
        _response?.Dispose();
        _response = null;
        _stream = null;
        _parser = null;
    }

    /// <summary>Half a second, doubling to at most 10 s, so a restarted upstream is picked up quickly.</summary>
    public TimeSpan RetryDelay(int failures) => TimeSpan.FromSeconds(Math.Min(10, 0.5 * Math.Pow(2, Math.Min(failures, 6) - 1)));

    public void Dispose()
    {
        Close();
        _http?.Dispose();
    }
}
