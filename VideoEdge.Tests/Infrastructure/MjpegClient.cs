using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>One part of a multipart stream as a client received it.</summary>
public sealed record MjpegPart(IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTime ReceivedUtc)
{
    public long Sequence => long.Parse(Headers["X-Frame-Sequence"], CultureInfo.InvariantCulture);
    public double Timestamp => double.Parse(Headers["X-Timestamp"], CultureInfo.InvariantCulture);
}

/// <summary>
/// A plain multipart/x-mixed-replace reader over a real HTTP response stream. It follows the
/// boundary the server declares, so it checks our framing rather than assuming it.
/// </summary>
public sealed class MjpegClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly Stream _stream;
    private readonly byte[] _boundaryLine;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private MjpegClient(HttpClient http, HttpResponseMessage response, Stream stream, string boundary)
    {
        _http = http;
        _response = response;
        _stream = stream;
        _boundaryLine = Encoding.ASCII.GetBytes("--" + boundary);
    }

    public HttpResponseHeaders ResponseHeaders => _response.Headers;
    public MediaTypeHeaderValue? ContentType => _response.Content.Headers.ContentType;

    public static async Task<MjpegClient> ConnectAsync(string url, CancellationToken cancellation = default)
    {
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellation);
        response.EnsureSuccessStatusCode();
        var type = response.Content.Headers.ContentType ?? throw new InvalidDataException("no Content-Type");
        Assert.Equal("multipart/x-mixed-replace", type.MediaType);
        var boundary = type.Parameters.First(p => p.Name == "boundary").Value!.Trim('"');
        var stream = await response.Content.ReadAsStreamAsync(cancellation);
        return new MjpegClient(http, response, stream, boundary);
    }

    /// <summary>Reads the next part: boundary line, headers, exactly Content-Length bytes.</summary>
    public async Task<MjpegPart> ReadPartAsync(CancellationToken cancellation = default)
    {
        string line;
        do
        {
            line = await ReadLineAsync(cancellation);
        }
        while (line.Length == 0);
        Assert.Equal(Encoding.ASCII.GetString(_boundaryLine), line);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while ((line = await ReadLineAsync(cancellation)).Length > 0)
        {
            var colon = line.IndexOf(':');
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        var length = int.Parse(headers["Content-Length"], CultureInfo.InvariantCulture);
        var body = new byte[length];
        var copied = 0;
        while (copied < length)
        {
            if (_start == _end)
            {
                await FillAsync(cancellation);
            }
            var n = Math.Min(length - copied, _end - _start);
            Array.Copy(_buffer, _start, body, copied, n);
            _start += n;
            copied += n;
        }
        return new MjpegPart(headers, body, DateTime.UtcNow);
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellation)
    {
        var sb = new StringBuilder();
        while (true)
        {
            if (_start == _end)
            {
                await FillAsync(cancellation);
            }
            var b = _buffer[_start++];
            if (b == '\n')
            {
                return sb.ToString().TrimEnd('\r');
            }
            sb.Append((char)b);
            if (sb.Length > 1000)
            {
                throw new InvalidDataException("header line too long: " + sb.ToString(0, 80));
            }
        }
    }

    private async Task FillAsync(CancellationToken cancellation)
    {
        _start = 0;
        _end = await _stream.ReadAsync(_buffer, cancellation);
        if (_end == 0)
        {
            throw new EndOfStreamException("the server ended the stream");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _response.Dispose();
        _http.Dispose();
    }
}
