using System.Buffers.Text;
using VideoEdge.Frames;

namespace VideoEdge.Relay;

public enum PartStatus
{
    /// <summary>Read more bytes into <see cref="MultipartMjpegParser.GetWriteMemory"/> and ask again.</summary>
    NeedMoreData,

    /// <summary>A whole part body is ready.</summary>
    Part,

    /// <summary>A part was thrown away (over the size cap, or headers too long); the stream goes on.</summary>
    Dropped,
}

/// <summary>
/// Splits a multipart/x-mixed-replace byte stream into its part bodies without looking inside
/// them. Written for the streams found in the wild: the boundary given with or without quotes
/// and leading dashes (or not at all, then learned from the first delimiter line), CRLF or bare LF
/// line ends, parts with a Content-Length and parts without one (then the body ends where the next
/// delimiter line begins, so a thumbnail's EOI inside a JPEG does not cut it short).
/// Parts are taken with <see cref="TryReadPart"/> (see <see cref="ReceiveBuffer"/> for the reads).
/// The receive buffer grows to fit the largest part and is then reused, and a part is never copied
/// inside the parser.
/// </summary>
public sealed class MultipartMjpegParser : ReceiveBuffer
{
    private const int MaxHeaderBytes = 8 * 1024;

    private enum State { Boundary, Headers, Body, Skip }

    private readonly int _maxPartBytes;
    private byte[]? _delimiter;
    private State _state;
    private int _contentLength = -1;
    private int _headerBytes;
    private int _scanned;
    private long _skipRemaining;
    private long _discardedWithoutBoundary;

    /// <param name="boundary">The boundary parameter of the Content-Type (quotes and dashes allowed), or null to learn it from the stream.</param>
    /// <param name="maxPartBytes">Larger parts are dropped without being buffered whole.</param>
    public MultipartMjpegParser(string? boundary, int maxPartBytes)
        : base(maxPartBytes, MaxHeaderBytes)
    {
        _maxPartBytes = maxPartBytes;
        var core = boundary?.Trim().Trim('"').TrimStart('-');
        if (!string.IsNullOrEmpty(core))
        {
            _delimiter = System.Text.Encoding.ASCII.GetBytes(core);
        }
    }

    /// <summary>The boundary in use without its leading dashes (null until one was learned).</summary>
    public string? Boundary => _delimiter is null ? null : System.Text.Encoding.ASCII.GetString(_delimiter);

    /// <summary>
    /// The next part body, with the line ends around it trimmed. Throws <see cref="InvalidDataException"/>
    /// when the stream holds no boundary at all (it is not a multipart stream).
    /// </summary>
    public PartStatus TryReadPart(out ReadOnlySpan<byte> part)
    {
        part = default;
        while (true)
        {
            switch (_state)
            {
                case State.Boundary:
                    if (!FindBoundary())
                    {
                        return PartStatus.NeedMoreData;
                    }
                    _state = State.Headers;
                    _contentLength = -1;
                    _headerBytes = 0;
                    break;

                case State.Headers:
                    switch (ReadHeaderLine())
                    {
                        case HeaderStep.NeedMore:
                            return PartStatus.NeedMoreData;
                        case HeaderStep.TooLong:
                            _state = State.Boundary;
                            return PartStatus.Dropped;
                        case HeaderStep.EndOfHeaders when _contentLength > _maxPartBytes:
                            _skipRemaining = _contentLength;
                            _state = State.Skip;
                            return PartStatus.Dropped;
                        case HeaderStep.EndOfHeaders:
                            _state = State.Body;
                            _scanned = 0;
                            break;
                    }
                    break;

                case State.Body:
                    return _contentLength >= 0 ? ReadSizedBody(out part) : ReadDelimitedBody(out part);

                case State.Skip:
                    var n = (int)Math.Min(_skipRemaining, _end - _start);
                    _start += n;
                    _skipRemaining -= n;
                    if (_skipRemaining > 0)
                    {
                        return PartStatus.NeedMoreData;
                    }
                    _state = State.Boundary;
                    break;
            }
        }
    }

    private PartStatus ReadSizedBody(out ReadOnlySpan<byte> part)
    {
        part = default;
        if (_end - _start < _contentLength)
        {
            return PartStatus.NeedMoreData;
        }
        part = Trim(_buffer.AsSpan(_start, _contentLength));
        _start += _contentLength;
        _state = State.Boundary;
        return PartStatus.Part;
    }

    private PartStatus ReadDelimitedBody(out ReadOnlySpan<byte> part)
    {
        part = default;
        var search = FindDelimiterLine(_start + _scanned, _start, out var lineStart, out _);
        if (search == Search.Found)
        {
            part = Trim(_buffer.AsSpan(_start, lineStart - _start));
            _start = lineStart;
            _state = State.Boundary;
            return PartStatus.Part;
        }
        var pending = _end - _start;
        if (pending > _maxPartBytes + MaxHeaderBytes)
        {
            // Keep only what may be the start of the next delimiter line.
            _start = _end - Math.Min(pending, _delimiter!.Length + 8);
            _state = State.Boundary;
            return PartStatus.Dropped;
        }
        _scanned = search == Search.Undecided ? lineStart - _start : Math.Max(0, pending - _delimiter!.Length);
        return PartStatus.NeedMoreData;
    }

    private bool FindBoundary()
    {
        if (_delimiter is null)
        {
            return LearnBoundary();
        }
        var search = FindDelimiterLine(_start, _start, out var lineStart, out var lineEnd);
        if (search == Search.Found)
        {
            _start = lineEnd;
            _discardedWithoutBoundary = 0;
            return true;
        }
        // Junk before a boundary (or a preamble): drop it, keeping what may begin the delimiter line.
        var keep = search == Search.Undecided ? _end - lineStart : Math.Min(_end - _start, _delimiter.Length + 8);
        Discard(_end - _start - keep);
        return false;
    }

    /// <summary>No boundary was declared: the first line that starts with two dashes is the delimiter.</summary>
    private bool LearnBoundary()
    {
        while (true)
        {
            var nl = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl < 0)
            {
                if (_end - _start > MaxHeaderBytes)
                {
                    Discard(_end - _start);
                }
                return false;
            }
            var line = TrimLine(_buffer.AsSpan(_start, nl));
            if (line.Length > 2 && line[0] == '-' && line[1] == '-')
            {
                _delimiter = line.TrimStart((byte)'-').ToArray();
                _start += nl + 1;
                _discardedWithoutBoundary = 0;
                return true;
            }
            Discard(nl + 1);
        }
    }

    private void Discard(int count)
    {
        _start += count;
        _discardedWithoutBoundary += count;
        if (_discardedWithoutBoundary > _capacity)
        {
            throw new InvalidDataException($"no multipart boundary{(_delimiter is null ? "" : $" '{Boundary}'")} in {_discardedWithoutBoundary} bytes: not an MJPEG stream");
        }
    }

    private enum HeaderStep { Continue, NeedMore, TooLong, EndOfHeaders }

    private HeaderStep ReadHeaderLine()
    {
        var pending = _buffer.AsSpan(_start, _end - _start);
        // A few servers send the JPEG straight after the delimiter, without headers.
        if (_headerBytes == 0 && pending.Length >= 2 && pending[0] == 0xFF && pending[1] == 0xD8)
        {
            return HeaderStep.EndOfHeaders;
        }
        var nl = pending.IndexOf((byte)'\n');
        if (nl < 0)
        {
            return _headerBytes + pending.Length > MaxHeaderBytes ? HeaderStep.TooLong : HeaderStep.NeedMore;
        }
        var line = TrimLine(pending[..nl]);
        _start += nl + 1;
        _headerBytes += nl + 1;
        if (_headerBytes > MaxHeaderBytes)
        {
            return HeaderStep.TooLong;
        }
        if (line.IsEmpty)
        {
            return HeaderStep.EndOfHeaders;
        }
        if (IsDelimiter(line))
        {
            // An empty part: what follows are the next part's headers.
            _contentLength = -1;
            _headerBytes = 0;
            return HeaderStep.Continue;
        }
        var colon = line.IndexOf((byte)':');
        if (colon > 0 && System.Text.Ascii.EqualsIgnoreCase(TrimLine(line[..colon]), "content-length"u8)
            && Utf8Parser.TryParse(line[(colon + 1)..].Trim((byte)' '), out int length, out var used)
            && used == line[(colon + 1)..].Trim((byte)' ').Length && length >= 0)
        {
            _contentLength = length;
        }
        return HeaderStep.Continue;
    }

    private bool IsDelimiter(ReadOnlySpan<byte> line)
    {
        var core = line.TrimStart((byte)'-');
        if (core.EndsWith("--"u8) && core.Length == _delimiter!.Length + 2)
        {
            core = core[..^2];
        }
        return core.SequenceEqual(_delimiter);
    }

    private enum Search { NotFound, Found, Undecided }

    /// <summary>
    /// Looks for a line holding the delimiter (dashes, the boundary, optionally "--", line end) from
    /// <paramref name="from"/>. <paramref name="regionStart"/> counts as a line start. Undecided: a
    /// candidate whose line end has not arrived yet begins at <paramref name="lineStart"/>.
    /// </summary>
    private Search FindDelimiterLine(int from, int regionStart, out int lineStart, out int lineEnd)
    {
        var delimiter = _delimiter!;
        lineStart = lineEnd = 0;
        var position = from;
        while (position < _end)
        {
            var index = _buffer.AsSpan(position, _end - position).IndexOf(delimiter);
            if (index < 0)
            {
                return Search.NotFound;
            }
            var at = position + index;
            var begin = at;
            while (begin > regionStart && _buffer[begin - 1] == '-')
            {
                begin--;
            }
            if (begin == regionStart || _buffer[begin - 1] == '\n')
            {
                var k = at + delimiter.Length;
                if (k + 1 < _end && _buffer[k] == '-' && _buffer[k + 1] == '-')
                {
                    k += 2;
                }
                while (k < _end && _buffer[k] is (byte)' ' or (byte)'\t')
                {
                    k++;
                }
                if (k >= _end || (_buffer[k] == '\r' && k + 1 >= _end))
                {
                    lineStart = begin;
                    return Search.Undecided;
                }
                var eol = _buffer[k] == '\n' ? 1 : _buffer[k] == '\r' && _buffer[k + 1] == '\n' ? 2 : 0;
                if (eol > 0)
                {
                    lineStart = begin;
                    lineEnd = k + eol;
                    return Search.Found;
                }
            }
            position = at + 1;
        }
        return Search.NotFound;
    }

    private static ReadOnlySpan<byte> TrimLine(ReadOnlySpan<byte> line) => line.Trim(" \t\r"u8);

    /// <summary>Line ends and padding around a body are not part of the JPEG (which starts FF D8 and ends FF D9).</summary>
    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> body) => body.Trim("\r\n\t \0"u8);
}
