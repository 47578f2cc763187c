using VideoEdge.Frames;

namespace VideoEdge.Sources;

public enum JpegSplitStatus
{
    /// <summary>Read more bytes into <see cref="JpegStreamSplitter.GetWriteMemory"/> and ask again.</summary>
    NeedMoreData,

    /// <summary>A whole JPEG, SOI to EOI, is ready.</summary>
    Frame,

    /// <summary>A JPEG was cut short (a new SOI came inside it) and thrown away; the stream goes on.</summary>
    Truncated,

    /// <summary>A JPEG grew past the size limit and was thrown away; the stream goes on.</summary>
    TooLarge,
}

/// <summary>
/// Splits a byte stream of concatenated JPEGs (what <c>rpicam-vid --codec mjpeg -o -</c> or
/// <c>ffmpeg -f mjpeg -</c> write) into whole JPEGs without decoding them. The marker segments
/// are walked by their lengths, so an EOI inside an EXIF thumbnail or an ICC profile does not end
/// the frame; in the entropy-coded data only a real marker counts (FF 00 is a stuffed data byte,
/// FF D0–D7 are restart markers, other markers between the scans of a progressive JPEG go back to
/// walking segments). Anything between frames — a multipart MJPEG stream's boundary and header lines,
/// a program's stray text, bytes that only look like an SOI — is skipped.
/// Frames are taken with <see cref="TryReadFrame"/> (see <see cref="ReceiveBuffer"/> for the reads).
/// No I/O: a pure function of the bytes given, scanned once each.
/// </summary>
public sealed class JpegStreamSplitter : ReceiveBuffer
{
    private enum Phase { Seek, Segments, EntropyData }

    private readonly int _maxFrameBytes;
    private int _position;
    private Phase _phase;

    /// <param name="maxFrameBytes">Larger JPEGs are dropped (<see cref="JpegSplitStatus.TooLarge"/>) without being buffered whole.</param>
    public JpegStreamSplitter(int maxFrameBytes)
        : base(maxFrameBytes, 0)
    {
        _maxFrameBytes = maxFrameBytes;
    }

    /// <summary>Bytes skipped because they were not part of any JPEG.</summary>
    public long SkippedBytes { get; private set; }

    private protected override void Moved(int distance) => _position -= distance;

    /// <summary>The next whole JPEG, from its SOI (FF D8) to its EOI (FF D9) inclusive.</summary>
    public JpegSplitStatus TryReadFrame(out ReadOnlySpan<byte> frame)
    {
        frame = default;
        while (true)
        {
            var status = _phase == Phase.Seek ? Seek() : Walk();
            if (status == Step.Continue)
            {
                continue;
            }
            if (status == Step.Frame)
            {
                var length = _position - _start;
                if (length > _maxFrameBytes)
                {
                    // Whole, but it arrived in one read before the limit could stop it.
                    SkippedBytes += length;
                    _start = _position;
                    _phase = Phase.Seek;
                    return JpegSplitStatus.TooLarge;
                }
                frame = _buffer.AsSpan(_start, length);
                _start = _position;
                _phase = Phase.Seek;
                return JpegSplitStatus.Frame;
            }
            if (status == Step.Truncated)
            {
                return JpegSplitStatus.Truncated;
            }
            // More data needed: unless the frame so far is already too large.
            if (_phase != Phase.Seek && Math.Max(_position, _end) - _start > _maxFrameBytes)
            {
                // Drop what we have; the next SOI found is the next frame (an SOI cannot occur in
                // entropy-coded data, where every FF is stuffed or starts a marker).
                _position = Math.Min(_position, _end);
                SkippedBytes += _position - _start;
                _start = _position;
                _phase = Phase.Seek;
                return JpegSplitStatus.TooLarge;
            }
            return JpegSplitStatus.NeedMoreData;
        }
    }

    private enum Step { Continue, NeedMore, Frame, Truncated }

    private Step Seek()
    {
        var at = _buffer.AsSpan(_position, _end - _position).IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD8]);
        if (at < 0)
        {
            // Keep a trailing FF: it may be the first half of the next SOI.
            var keep = _end > _position && _buffer[_end - 1] == 0xFF ? 1 : 0;
            SkippedBytes += _end - keep - _start;
            _start = _position = _end - keep;
            return Step.NeedMore;
        }
        SkippedBytes += _position + at - _start;
        _start = _position + at;
        _position = _start + 2;
        _phase = Phase.Segments;
        return Step.Continue;
    }

    /// <summary>
    /// From the SOI on: marker segments walked by their lengths, the entropy-coded data after each SOS
    /// scanned for the marker that ends it (<see cref="JpegSegments"/>), until EOI.
    /// </summary>
    private Step Walk()
    {
        var segments = new JpegSegments(_buffer.AsSpan(0, _end), _position, _phase == Phase.EntropyData);
        while (true)
        {
            var inScan = segments.InScan;
            var kind = segments.Next();
            _position = segments.Position;
            _phase = segments.InScan ? Phase.EntropyData : Phase.Segments;
            switch (kind)
            {
                case JpegMarkerKind.Segment or JpegMarkerKind.Standalone:
                    continue;
                case JpegMarkerKind.NeedMoreData:
                    return Step.NeedMore;
                case JpegMarkerKind.EndOfImage:
                    return Step.Frame;
                case JpegMarkerKind.StartOfImage when inScan:
                    // A new JPEG began before this one ended: this one was cut short.
                    SkippedBytes += segments.Offset - _start;
                    _start = segments.Offset;
                    return Step.Truncated;
                default:
                    return NotAJpeg();
            }
        }
    }

    /// <summary>
    /// What looked like an SOI is not followed by well-formed segments (garbage that happens to hold
    /// FF D8, or a frame cut inside its headers): look for the next SOI after it.
    /// </summary>
    private Step NotAJpeg()
    {
        _position = _start + 2;
        _phase = Phase.Seek;
        return Step.Continue;
    }
}
