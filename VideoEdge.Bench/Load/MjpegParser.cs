using System.Buffers.Text;

namespace VideoEdge.Bench.Load;

/// <summary>
/// multipart/x-mixed-replace over HTTP/1.0 or HTTP/1.1 (chunked or not). Every header block that has a
/// Content-Length starts a part; boundary lines ride along in the next header block.
/// </summary>
internal sealed class MjpegParser(IFrameSink sink) : StreamParser(sink)
{
    private const int MaxHead = 8192;
    private readonly byte[] _head = new byte[MaxHead];
    private int _headLength;
    private bool _responseSeen;
    private bool _chunked;
    private ChunkState _chunkState = ChunkState.Size;
    private int _chunkRemaining;

    private enum ChunkState { Size, Data, DataEnd }

    public override int Skippable
    {
        get
        {
            var body = BodySkippable;
            if (!_chunked || body == 0)
            {
                return body;
            }
            return _chunkState == ChunkState.Data ? Math.Min(body, _chunkRemaining) : 0;
        }
    }

    public override void Skip(int count)
    {
        if (_chunked)
        {
            _chunkRemaining -= count;
            if (_chunkRemaining == 0)
            {
                _chunkState = ChunkState.DataEnd;
            }
        }
        SkipBody(count);
    }

    public override int Consume(ReadOnlySpan<byte> data)
    {
        if (!_responseSeen)
        {
            return ConsumeResponseHead(data);
        }
        if (!_chunked)
        {
            return ConsumePayload(data);
        }
        var used = 0;
        while (used < data.Length && Error is null)
        {
            var rest = data[used..];
            switch (_chunkState)
            {
                case ChunkState.Size:
                {
                    var eol = rest.IndexOf("\r\n"u8);
                    if (eol < 0)
                    {
                        return used;
                    }
                    var line = rest[..eol];
                    var semi = line.IndexOf((byte)';');
                    if (semi >= 0)
                    {
                        line = line[..semi];
                    }
                    if (!Utf8Parser.TryParse(line, out int size, out _, 'x'))
                    {
                        Error = "bad chunk size: " + Printable(rest);
                        return used;
                    }
                    used += eol + 2;
                    if (size == 0)
                    {
                        Error = "the server ended the stream";
                        return used;
                    }
                    _chunkRemaining = size;
                    _chunkState = ChunkState.Data;
                    break;
                }
                case ChunkState.Data:
                {
                    var n = ConsumePayload(rest[..Math.Min(rest.Length, _chunkRemaining)]);
                    if (n == 0)
                    {
                        return used;
                    }
                    used += n;
                    _chunkRemaining -= n;
                    if (_chunkRemaining == 0)
                    {
                        _chunkState = ChunkState.DataEnd;
                    }
                    break;
                }
                case ChunkState.DataEnd:
                    if (rest.Length < 2)
                    {
                        return used;
                    }
                    used += 2;
                    _chunkState = ChunkState.Size;
                    break;
            }
        }
        return used;
    }

    private int ConsumeResponseHead(ReadOnlySpan<byte> data)
    {
        var end = data.IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            if (data.Length >= MaxHead)
            {
                Error = "response head too long";
            }
            return 0;
        }
        var head = data[..end];
        if (!head.StartsWith("HTTP/1.1 200"u8) && !head.StartsWith("HTTP/1.0 200"u8))
        {
            Error = "unexpected response: " + Printable(head);
            return 0;
        }
        _chunked = ContainsIgnoreCase(head, "transfer-encoding: chunked"u8);
        _responseSeen = true;
        return end + 4;
    }

    /// <summary>Multipart bytes (already de-chunked): part header blocks and bodies.</summary>
    private int ConsumePayload(ReadOnlySpan<byte> data)
    {
        var used = 0;
        while (used < data.Length && Error is null)
        {
            if (InBody)
            {
                used += FeedBody(data[used..]);
                continue;
            }
            // Part headers may straddle reads (and chunks): gather them in _head.
            var take = Math.Min(data.Length - used, MaxHead - _headLength);
            data.Slice(used, take).CopyTo(_head.AsSpan(_headLength));
            var searchFrom = Math.Max(0, _headLength - 3);
            _headLength += take;
            var end = _head.AsSpan(searchFrom, _headLength - searchFrom).IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                if (_headLength == MaxHead)
                {
                    Error = "part head too long: " + Printable(_head);
                }
                used += take;
                continue;
            }
            end += searchFrom;
            var blockEnd = end + 4;
            // Bytes of this read past the block go back to the caller's span.
            used += take - (_headLength - blockEnd);
            var block = _head.AsSpan(0, end);
            _headLength = 0;
            var length = HeaderValue(block, "content-length:"u8);
            if (length < 0)
            {
                continue;
            }
            var micros = HeaderSecondsAsMicros(block);
            BeginBody((int)length, micros * 1000, HeaderValue(block, "x-frame-sequence:"u8));
        }
        return used;
    }

    private static bool ContainsIgnoreCase(ReadOnlySpan<byte> haystack, ReadOnlySpan<byte> lowerNeedle)
    {
        for (var i = 0; i + lowerNeedle.Length <= haystack.Length; i++)
        {
            var match = true;
            for (var j = 0; j < lowerNeedle.Length && match; j++)
            {
                var c = haystack[i + j];
                if (c is >= (byte)'A' and <= (byte)'Z')
                {
                    c += 32;
                }
                match = c == lowerNeedle[j];
            }
            if (match)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>An integer header value, or -1.</summary>
    private static long HeaderValue(ReadOnlySpan<byte> block, ReadOnlySpan<byte> lowerName)
    {
        var at = IndexOfLine(block, lowerName);
        if (at < 0)
        {
            return -1;
        }
        var value = block[(at + lowerName.Length)..].TrimStart((byte)' ');
        return Utf8Parser.TryParse(value, out long v, out _) ? v : -1;
    }

    private static long HeaderSecondsAsMicros(ReadOnlySpan<byte> block)
    {
        var at = IndexOfLine(block, "x-timestamp:"u8);
        if (at < 0)
        {
            return 0;
        }
        var value = block[(at + 12)..].TrimStart((byte)' ');
        return Utf8Parser.TryParse(value, out decimal seconds, out _) ? (long)(seconds * 1_000_000m) : 0;
    }

    private static int IndexOfLine(ReadOnlySpan<byte> block, ReadOnlySpan<byte> lowerName)
    {
        var start = 0;
        while (start < block.Length)
        {
            var line = block[start..];
            var eol = line.IndexOf("\r\n"u8);
            if (eol >= 0)
            {
                line = line[..eol];
            }
            if (line.Length >= lowerName.Length && ContainsIgnoreCase(line[..lowerName.Length], lowerName))
            {
                return start;
            }
            if (eol < 0)
            {
                break;
            }
            start += eol + 2;
        }
        return -1;
    }
}
