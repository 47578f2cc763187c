using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace VideoEdge.Tests.Security;

/// <summary>The status line and headers of an HTTP response as read off the wire.</summary>
internal sealed record RawResponseHead(string Version, int Status, Dictionary<string, string> Headers)
{
    public string? this[string name] => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>
/// A client on a bare TCP socket, so a test can send exactly the bytes it means to (malformed,
/// partial, pipelined, trickled) and read exactly what the server answers, frame by frame.
/// </summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    // Chunked response bodies are decoded on the fly, so callers read the body as the server meant it.
    private bool _chunked;
    private long _chunkLeft;
    private bool _chunkTrailerDue;
    private bool _bodyEnded;

    private RawConnection(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    /// <summary>Connects to the host and port of <paramref name="server"/>, optionally from another loopback address (127.0.0.0/8 is all local).</summary>
    public static async Task<RawConnection> ConnectAsync(Uri server, IPAddress? from = null, int? receiveBufferBytes = null, CancellationToken cancellation = default)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (receiveBufferBytes is { } size)
            {
                socket.ReceiveBufferSize = size;
            }
            if (from is not null)
            {
                socket.Bind(new IPEndPoint(from, 0));
            }
            await socket.ConnectAsync(IPAddress.Parse(server.Host), server.Port, cancellation);
            return new RawConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static string Get(string pathAndQuery, string host = "localhost", string extraHeaders = "") =>
        $"GET {pathAndQuery} HTTP/1.1\r\nHost: {host}\r\n{extraHeaders}\r\n";

    public Task SendAsync(string text, CancellationToken cancellation = default) => SendAsync(Encoding.Latin1.GetBytes(text), cancellation);

    public async Task SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellation = default)
    {
        while (!bytes.IsEmpty)
        {
            var n = await _socket.SendAsync(bytes, SocketFlags.None, cancellation);
            bytes = bytes[n..];
        }
    }

    /// <summary>Reads up to the blank line ending the response head; the rest stays buffered for the body.</summary>
    public async Task<RawResponseHead> ReadHeadAsync(CancellationToken cancellation = default)
    {
        var statusLine = await ReadRawLineAsync(cancellation);
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/", StringComparison.Ordinal) || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new InvalidDataException("not an HTTP status line: " + statusLine);
        }
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string line;
        while ((line = await ReadRawLineAsync(cancellation)).Length > 0)
        {
            var colon = line.IndexOf(':');
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
        }
        var head = new RawResponseHead(parts[0], status, headers);
        _chunked = head["Transfer-Encoding"] is { } te && te.Contains("chunked", StringComparison.OrdinalIgnoreCase);
        _chunkLeft = 0;
        _chunkTrailerDue = false;
        _bodyEnded = false;
        return head;
    }

    /// <summary>Reads a whole response body (Content-Length or chunked).</summary>
    public async Task<byte[]> ReadBodyAsync(RawResponseHead head, CancellationToken cancellation = default)
    {
        if (_chunked)
        {
            using var body = new MemoryStream();
            while (await BodyAvailableAsync(cancellation) is var n and > 0)
            {
                body.Write(_buffer, _start, n);
                Consume(n);
            }
            return body.ToArray();
        }
        var length = head["Content-Length"] is { } cl ? int.Parse(cl, CultureInfo.InvariantCulture) : 0;
        return await ReadExactlyAsync(length, cancellation);
    }

    /// <summary>Reads one multipart part (boundary line, part headers, Content-Length bytes); returns its X-Frame-Sequence and size.</summary>
    public async Task<(long Sequence, int Length)> ReadMjpegPartAsync(CancellationToken cancellation = default)
    {
        string line;
        do
        {
            line = await ReadLineAsync(cancellation);
        }
        while (line.Length == 0);
        if (!line.StartsWith("--", StringComparison.Ordinal))
        {
            throw new InvalidDataException("expected a boundary, got: " + line);
        }
        int length = -1;
        long sequence = -1;
        while ((line = await ReadLineAsync(cancellation)).Length > 0)
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("X-Frame-Sequence:", StringComparison.OrdinalIgnoreCase))
            {
                sequence = long.Parse(line.AsSpan(17).Trim(), CultureInfo.InvariantCulture);
            }
        }
        var jpeg = await ReadExactlyAsync(length, cancellation);
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 || jpeg[^2] != 0xFF || jpeg[^1] != 0xD9)
        {
            throw new InvalidDataException("a part that is not a whole JPEG");
        }
        return (sequence, length);
    }

    public async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellation = default)
    {
        var result = new byte[count];
        var copied = 0;
        while (copied < count)
        {
            var available = await BodyAvailableAsync(cancellation);
            if (available == 0)
            {
                throw new EndOfStreamException("the response body ended");
            }
            var n = Math.Min(count - copied, available);
            Array.Copy(_buffer, _start, result, copied, n);
            Consume(n);
            copied += n;
        }
        return result;
    }

    /// <summary>Reads and discards up to <paramref name="count"/> bytes that have arrived or arrive (at least one).</summary>
    public async Task<int> ReadSomeAsync(int count, CancellationToken cancellation = default)
    {
        var available = await BodyAvailableAsync(cancellation);
        if (available == 0)
        {
            throw new EndOfStreamException("the response body ended");
        }
        var n = Math.Min(count, available);
        Consume(n);
        return n;
    }

    /// <summary>
    /// Reads and discards until the server closes the connection (FIN or reset); false when it is
    /// still open after <paramref name="timeout"/>.
    /// </summary>
    public async Task<bool> WaitForServerCloseAsync(TimeSpan timeout)
    {
        _start = _end = 0;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Everything the server sends until it closes (bounded by <paramref name="timeout"/>).</summary>
    public async Task<byte[]> ReadToCloseAsync(TimeSpan timeout)
    {
        using var all = new MemoryStream();
        all.Write(_buffer, _start, _end - _start);
        _start = _end = 0;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            int n;
            while ((n = await _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, cts.Token)) > 0)
            {
                all.Write(_buffer, 0, n);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
        }
        return all.ToArray();
    }

    /// <summary>A line of the (de-chunked) body, such as a multipart header.</summary>
    public async Task<string> ReadLineAsync(CancellationToken cancellation = default)
    {
        var sb = new StringBuilder();
        while (true)
        {
            if (await BodyAvailableAsync(cancellation) == 0)
            {
                throw new EndOfStreamException("the response body ended");
            }
            var b = _buffer[_start];
            Consume(1);
            if (b == '\n')
            {
                return sb.ToString().TrimEnd('\r');
            }
            sb.Append((char)b);
            if (sb.Length > 16 * 1024)
            {
                throw new InvalidDataException("line too long");
            }
        }
    }

    /// <summary>A line straight off the wire (status line, header, chunk size).</summary>
    private async Task<string> ReadRawLineAsync(CancellationToken cancellation)
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
            if (sb.Length > 16 * 1024)
            {
                throw new InvalidDataException("line too long");
            }
        }
    }

    /// <summary>How many body bytes sit in the buffer from _start (reading more, and chunk framing, as needed); 0 at the end of a chunked body.</summary>
    private async Task<int> BodyAvailableAsync(CancellationToken cancellation)
    {
        if (_chunked)
        {
            while (_chunkLeft == 0)
            {
                if (_bodyEnded)
                {
                    return 0;
                }
                if (_chunkTrailerDue)
                {
                    await ReadRawLineAsync(cancellation);
                    _chunkTrailerDue = false;
                }
                var size = await ReadRawLineAsync(cancellation);
                _chunkLeft = long.Parse(size.Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (_chunkLeft == 0)
                {
                    await ReadRawLineAsync(cancellation);
                    _bodyEnded = true;
                    return 0;
                }
            }
        }
        if (_start == _end)
        {
            await FillAsync(cancellation);
        }
        return _chunked ? (int)Math.Min(_end - _start, _chunkLeft) : _end - _start;
    }

    private void Consume(int n)
    {
        _start += n;
        if (_chunked)
        {
            _chunkLeft -= n;
            _chunkTrailerDue = _chunkLeft == 0;
        }
    }

    private async Task FillAsync(CancellationToken cancellation)
    {
        _start = 0;
        _end = await _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, cancellation);
        if (_end == 0)
        {
            throw new EndOfStreamException("the server closed the connection");
        }
    }

    // ---- WebSocket (RFC 6455) by hand ----

    /// <summary>Sends a valid WebSocket handshake for <paramref name="pathAndQuery"/> and checks the 101 answer.</summary>
    public async Task<RawResponseHead> WebSocketHandshakeAsync(string pathAndQuery, string extraHeaders = "", string host = "localhost", CancellationToken cancellation = default)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        await SendAsync(Get(pathAndQuery, host, $"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{extraHeaders}"), cancellation);
        var head = await ReadHeadAsync(cancellation);
        if (head.Status == 101)
        {
            var expected = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
            if (head["Sec-WebSocket-Accept"] != expected)
            {
                throw new InvalidDataException("wrong Sec-WebSocket-Accept");
            }
        }
        return head;
    }

    /// <summary>Reads one server frame: its opcode, FIN bit and payload.</summary>
    public async Task<(int Opcode, bool Fin, byte[] Payload)> ReadWebSocketFrameAsync(CancellationToken cancellation = default)
    {
        var head = await ReadExactlyAsync(2, cancellation);
        var fin = (head[0] & 0x80) != 0;
        var opcode = head[0] & 0x0F;
        if ((head[1] & 0x80) != 0)
        {
            throw new InvalidDataException("the server masked a frame");
        }
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var ext = await ReadExactlyAsync(2, cancellation);
            length = (ext[0] << 8) | ext[1];
        }
        else if (length == 127)
        {
            var ext = await ReadExactlyAsync(8, cancellation);
            length = 0;
            foreach (var b in ext)
            {
                length = (length << 8) | b;
            }
        }
        return (opcode, fin, await ReadExactlyAsync(checked((int)length), cancellation));
    }

    /// <summary>Reads frames until a whole binary message (a JPEG) has arrived; null when the server sent close.</summary>
    public async Task<byte[]?> ReadWebSocketJpegAsync(CancellationToken cancellation = default)
    {
        using var message = new MemoryStream();
        while (true)
        {
            var (opcode, fin, payload) = await ReadWebSocketFrameAsync(cancellation);
            if (opcode == 8)
            {
                return null;
            }
            if (opcode is 1 or 9 or 10)
            {
                continue;
            }
            message.Write(payload);
            if (fin)
            {
                return message.ToArray();
            }
        }
    }

    /// <summary>A client frame; clients must mask, so <paramref name="mask"/> = false makes an invalid one on purpose.</summary>
    public static byte[] WebSocketFrame(int opcode, ReadOnlySpan<byte> payload, bool fin = true, bool mask = true, int rsv = 0, long? declaredLength = null)
    {
        var length = declaredLength ?? payload.Length;
        using var frame = new MemoryStream();
        frame.WriteByte((byte)((fin ? 0x80 : 0) | (rsv << 4) | opcode));
        var maskBit = mask ? 0x80 : 0;
        if (length < 126)
        {
            frame.WriteByte((byte)(maskBit | (int)length));
        }
        else if (length <= ushort.MaxValue)
        {
            frame.WriteByte((byte)(maskBit | 126));
            frame.WriteByte((byte)(length >> 8));
            frame.WriteByte((byte)length);
        }
        else
        {
            frame.WriteByte((byte)(maskBit | 127));
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                frame.WriteByte((byte)(length >> shift));
            }
        }
        var key = mask ? RandomNumberGenerator.GetBytes(4) : [];
        frame.Write(key);
        for (var i = 0; i < payload.Length; i++)
        {
            frame.WriteByte(mask ? (byte)(payload[i] ^ key[i % 4]) : payload[i]);
        }
        return frame.ToArray();
    }

    /// <summary>Drops the connection with a TCP reset (linger 0): the abrupt end of a crashed client or a pulled cable.</summary>
    public void Reset()
    {
        try
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
        }
        _socket.Close();
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
