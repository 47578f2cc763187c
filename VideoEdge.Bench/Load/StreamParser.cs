using System.Buffers.Text;
using System.Text;

namespace VideoEdge.Bench.Load;

/// <summary>What a parser reports for each complete picture.</summary>
internal interface IFrameSink
{
    /// <summary>The first bytes of a picture arrived (its capture stamp is known from here on).</summary>
    void OnFrameStart(long captureNs, long sequence);

    /// <summary>The last byte of the picture arrived.</summary>
    void OnFrameEnd(int bytes);
}

/// <summary>
/// Parses a live picture stream from a socket while looking at as few bytes as possible: headers and
/// the first bytes of each JPEG (where the fake camera's stamp is) are read; the rest of each picture
/// is only counted, so the reader can discard it in the kernel (recv with MSG_TRUNC) without a copy.
/// </summary>
internal abstract class StreamParser
{
    /// <summary>Bytes of each JPEG to look at for the "fakecam seq=N t=NS" comment segment.</summary>
    protected const int StampWindow = 96;

    private readonly byte[] _stamp = new byte[StampWindow];
    private int _stampLength;
    private int _bodyRemaining;
    private int _bodyLength;
    private bool _inBody;
    private long _headerTimestampNs;
    private long _headerSequence;

    protected StreamParser(IFrameSink sink) => Sink = sink;

    protected IFrameSink Sink { get; }

    public string? Error { get; protected set; }

    /// <summary>How many upcoming bytes may be discarded unseen (0 = they must be read).</summary>
    public abstract int Skippable { get; }

    /// <summary>Consumes as much of <paramref name="data"/> as it can; returns the bytes used.</summary>
    public abstract int Consume(ReadOnlySpan<byte> data);

    /// <summary>Accounts for <paramref name="count"/> bytes (at most <see cref="Skippable"/>) discarded unseen.</summary>
    public abstract void Skip(int count);

    /// <summary>Bytes of picture body still expected and whether the stamp window is complete.</summary>
    protected int BodySkippable => _inBody && _stampLength == Math.Min(StampWindow, _bodyLength) ? _bodyRemaining : 0;

    protected bool InBody => _inBody;

    protected void BeginBody(int length, long headerTimestampNs, long headerSequence)
    {
        _inBody = true;
        _bodyLength = _bodyRemaining = length;
        _stampLength = 0;
        _headerTimestampNs = headerTimestampNs;
        _headerSequence = headerSequence;
        if (length == 0)
        {
            EndStamp();
            EndBody();
        }
    }

    /// <summary>Feeds body bytes; returns how many belonged to the body.</summary>
    protected int FeedBody(ReadOnlySpan<byte> data)
    {
        var n = Math.Min(data.Length, _bodyRemaining);
        var wanted = Math.Min(StampWindow, _bodyLength) - _stampLength;
        if (wanted > 0)
        {
            var take = Math.Min(wanted, n);
            data[..take].CopyTo(_stamp.AsSpan(_stampLength));
            _stampLength += take;
            if (_stampLength == Math.Min(StampWindow, _bodyLength))
            {
                EndStamp();
            }
        }
        _bodyRemaining -= n;
        if (_bodyRemaining == 0)
        {
            EndBody();
        }
        return n;
    }

    protected void SkipBody(int count)
    {
        _bodyRemaining -= count;
        if (_bodyRemaining == 0)
        {
            EndBody();
        }
    }

    private void EndStamp()
    {
        if (TryReadStamp(_stamp.AsSpan(0, _stampLength), out var seq, out var ns))
        {
            Sink.OnFrameStart(ns, seq);
        }
        else
        {
            Sink.OnFrameStart(_headerTimestampNs, _headerSequence);
        }
    }

    private void EndBody()
    {
        _inBody = false;
        Sink.OnFrameEnd(_bodyLength);
    }

    /// <summary>Reads "fakecam seq=N t=NS" from a COM segment near the start of a JPEG.</summary>
    public static bool TryReadStamp(ReadOnlySpan<byte> jpeg, out long sequence, out long captureNs)
    {
        sequence = -1;
        captureNs = 0;
        var at = jpeg.IndexOf("fakecam seq="u8);
        if (at < 0)
        {
            return false;
        }
        var rest = jpeg[(at + 12)..];
        if (!Utf8Parser.TryParse(rest, out sequence, out var used) || !rest[used..].StartsWith(" t="u8))
        {
            return false;
        }
        return Utf8Parser.TryParse(rest[(used + 3)..], out captureNs, out _);
    }

    protected static string Printable(ReadOnlySpan<byte> bytes) =>
        Encoding.ASCII.GetString(bytes[..Math.Min(bytes.Length, 120)]).Replace("\r", "\\r").Replace("\n", "\\n");
}
