using System.Text;

namespace VideoEdge.Tests.Security;

/// <summary>
/// Turns valid requests into hostile ones, reproducibly from a seed: flipped and inserted bytes,
/// cut and repeated ranges, wrong methods, versions and line endings, oversized and countless
/// headers, bodies on GET, bad query values, pipelining, broken WebSocket handshakes.
/// </summary>
internal sealed class RequestMutator(int seed)
{
    private readonly Random _random = new(seed);

    public static readonly string[] ValidRequests =
    [
        "GET /stream.mjpg HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /stream.mjpg?fps=5 HTTP/1.1\r\nHost: localhost\r\nUser-Agent: mutator\r\nAccept: */*\r\n\r\n",
        "GET /snapshot.jpg HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /snapshot.jpg?fresh=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "HEAD /stream.mjpg HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /api/state HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /?action=stream HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /?action=snapshot HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /cams/main/snapshot.jpg HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /snapshot.jpg HTTP/1.0\r\n\r\n",
        "GET /ws?meta=1 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        "OPTIONS /stream.mjpg HTTP/1.1\r\nHost: localhost\r\nOrigin: https://a.example\r\nAccess-Control-Request-Method: GET\r\n\r\n",
    ];

    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "CONNECT", "TRACE", "PRI", "G ET", "", "get", "GET\0", new string('G', 300), "BREW"];
    private static readonly string[] Versions = ["HTTP/1.0", "HTTP/0.9", "HTTP/2.0", "HTTP/1.2", "HTTP/11", "HTTPS/1.1", "", "HTTP/1.1 extra", "http/1.1"];
    private static readonly string[] BadQueries =
    [
        "fps=-1", "fps=0", "fps=abc", "fps=NaN", "fps=Infinity", "fps=1e309", "fps=241", "fps=1,5", "fps=0x10", "fps=%205", "fps=", "fps",
        "fps=1&fps=2", "fps=%00", "fps=99999999999999999999999", "fresh=2", "fresh=yes", "meta=maybe", "action=../../etc/passwd", "action=%0d%0a",
        "token=%ff%fe", new string('a', 3000) + "=1", "&&&&", "=", "%", "%zz", "fps=5#frag",
    ];
    private static readonly string[] BadPaths = ["/%00", "/%zz", "/../../etc/passwd", "//stream.mjpg", "/stream.mjpg/", "/" + new string('x', 5000), "*", "http://evil.example/stream.mjpg", "/cams/%2e%2e/ws", "/cams/" + new string('c', 200) + "/stream.mjpg"];

    public (string Name, byte[] Bytes) Next()
    {
        var request = ValidRequests[_random.Next(ValidRequests.Length)];
        var bytes = Encoding.Latin1.GetBytes(request).ToList();
        var names = new List<string>();
        var count = 1 + _random.Next(3);
        for (var i = 0; i < count; i++)
        {
            var (name, mutated) = Mutate(bytes);
            names.Add(name);
            bytes = mutated;
        }
        return (string.Join('+', names), [.. bytes]);
    }

    private (string, List<byte>) Mutate(List<byte> b)
    {
        var text = Encoding.Latin1.GetString([.. b]);
        switch (_random.Next(17))
        {
            case 0:
                if (b.Count > 0)
                {
                    var i = _random.Next(b.Count);
                    b[i] ^= (byte)(1 << _random.Next(8));
                }
                return ("flip-bit", b);
            case 1:
                if (b.Count > 0)
                {
                    byte[] special = [0, 0x7f, 0xff, (byte)'\r', (byte)'\n', (byte)' ', (byte)':', (byte)'%', (byte)'?', (byte)'\t'];
                    b[_random.Next(b.Count)] = _random.Next(2) == 0 ? special[_random.Next(special.Length)] : (byte)_random.Next(256);
                }
                return ("replace-byte", b);
            case 2:
                if (b.Count > 1)
                {
                    var start = _random.Next(b.Count);
                    b.RemoveRange(start, _random.Next(Math.Min(40, b.Count - start)) + 1);
                }
                return ("delete-range", b);
            case 3:
                if (b.Count > 1)
                {
                    var start = _random.Next(b.Count);
                    var range = b.GetRange(start, Math.Min(_random.Next(30) + 1, b.Count - start));
                    var times = _random.Next(50) + 1;
                    for (var t = 0; t < times; t++)
                    {
                        b.InsertRange(start, range);
                    }
                }
                return ("repeat-range", b);
            case 4:
                var random = new byte[_random.Next(64) + 1];
                _random.NextBytes(random);
                b.InsertRange(_random.Next(b.Count + 1), random);
                return ("insert-random", b);
            case 5:
                return ("truncate", b.GetRange(0, _random.Next(b.Count + 1)));
            case 6:
                return ("huge-header", Bytes(InsertHeader(text, "X-Big: " + new string('b', 8_000 + _random.Next(40_000)))));
            case 7:
                return ("method", Bytes(Methods[_random.Next(Methods.Length)] + text[Math.Max(0, text.IndexOf(' '))..]));
            case 8:
                return ("version", Bytes(ReplaceFirstLine(text, line =>
                {
                    var at = line.LastIndexOf(" HTTP", StringComparison.Ordinal);
                    return (at > 0 ? line[..at] : line) + " " + Versions[_random.Next(Versions.Length)];
                })));
            case 9:
                return ("bad-query", Bytes(ReplaceFirstLine(text, line =>
                {
                    var parts = line.Split(' ');
                    if (parts.Length < 2)
                    {
                        return line;
                    }
                    var path = parts[1].Split('?')[0];
                    parts[1] = path + "?" + BadQueries[_random.Next(BadQueries.Length)];
                    return string.Join(' ', parts);
                })));
            case 10:
                return _random.Next(3) switch
                {
                    0 => ("body", Bytes(InsertHeader(text, "Content-Length: 11") + "hello world")),
                    1 => ("chunked-garbage", Bytes(InsertHeader(text, "Transfer-Encoding: chunked") + "zz\r\nnot hex\r\n0\r\n")),
                    _ => ("length-mismatch", Bytes(InsertHeader(text, $"Content-Length: {_random.Next(1, 1_000_000)}") + "short")),
                };
            case 11:
                return ("bare-lf", Bytes(_random.Next(2) == 0 ? text.Replace("\r\n", "\n", StringComparison.Ordinal) : text.Replace("\r\n", "\r", StringComparison.Ordinal)));
            case 12:
                var many = new StringBuilder();
                var n = 40 + _random.Next(200);
                for (var h = 0; h < n; h++)
                {
                    many.Append("X-H").Append(h).Append(": v\r\n");
                }
                return ("many-headers", Bytes(InsertHeader(text, many.ToString().TrimEnd('\r', '\n'))));
            case 13:
                return ("pipelined", Bytes(text + ValidRequests[_random.Next(ValidRequests.Length)] + (_random.Next(2) == 0 ? text : "")));
            case 14:
                return ("bad-path", Bytes(ReplaceFirstLine(text, line =>
                {
                    var parts = line.Split(' ');
                    if (parts.Length >= 2)
                    {
                        parts[1] = BadPaths[_random.Next(BadPaths.Length)];
                    }
                    return string.Join(' ', parts);
                })));
            case 15:
                string[] wsBreakers = ["Sec-WebSocket-Key: not-base64!!", "Sec-WebSocket-Key: AAAA", "Sec-WebSocket-Version: 8", "Sec-WebSocket-Version: 13, 8", "Upgrade: websocket, h2c", "Connection: keep-alive, Upgrade", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=99"];
                return ("websocket-header", Bytes(InsertHeader(text, wsBreakers[_random.Next(wsBreakers.Length)])));
            default:
                string[] dupes = ["Host: other", "Content-Length: 0", "Content-Length: -1", "Content-Length: 1, 2", "Host:", "Transfer-Encoding: gzip", "Expect: 100-continue", "Connection: close, upgrade", "Range: bytes=0-10", "Authorization: Basic %%%", "Authorization: Bearer", "Origin: null", "X-Bad\0Name: v", "Bad Header: v", ": empty-name", " leading-space: v", "X-Folded: a\r\n b"];
                return ("odd-header", Bytes(InsertHeader(text, dupes[_random.Next(dupes.Length)])));
        }
    }

    private static List<byte> Bytes(string text) => [.. Encoding.Latin1.GetBytes(text)];

    private static string InsertHeader(string request, string header)
    {
        var end = request.IndexOf("\r\n", StringComparison.Ordinal);
        return end < 0 ? request + "\r\n" + header + "\r\n\r\n" : request[..(end + 2)] + header + "\r\n" + request[(end + 2)..];
    }

    private static string ReplaceFirstLine(string request, Func<string, string> replace)
    {
        var end = request.IndexOf("\r\n", StringComparison.Ordinal);
        return end < 0 ? replace(request) : replace(request[..end]) + request[end..];
    }
}
