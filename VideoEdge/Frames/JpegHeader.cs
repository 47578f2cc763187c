namespace VideoEdge.Frames;

/// <summary>
/// What can be learned from a JPEG's markers without decoding it: whether it is whole, and its
/// size. Frames that arrive already encoded (relayed, pushed) are checked with this and nothing more.
/// </summary>
public static class JpegHeader
{
    /// <summary>
    /// True for what looks like one whole JPEG: SOI (FF D8) first, EOI (FF D9) last (not cut short),
    /// and well-formed segments up to a frame header, which gives the size.
    /// </summary>
    public static bool TryInspect(ReadOnlySpan<byte> data, out int width, out int height)
    {
        width = height = 0;
        return data.Length >= 4 && data[^2] == 0xFF && data[^1] == 0xD9 && TryReadSize(data, out width, out height);
    }

    /// <summary>Reads the size from the first start-of-frame segment, walking the segments before the scan.</summary>
    public static bool TryReadSize(ReadOnlySpan<byte> jpeg, out int width, out int height)
    {
        width = height = 0;
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)
        {
            return false;
        }
        var segments = new JpegSegments(jpeg);
        while (true)
        {
            switch (segments.Next())
            {
                case JpegMarkerKind.Standalone:
                    continue;
                case JpegMarkerKind.Segment when segments.Marker == JpegSegments.Sos:
                    return false; // the scan came before any SOF
                case JpegMarkerKind.Segment when JpegSegments.IsStartOfFrame(segments.Marker):
                    var at = segments.Offset;
                    if (segments.Length < 7 || at + 9 > jpeg.Length)
                    {
                        return false;
                    }
                    height = (jpeg[at + 5] << 8) | jpeg[at + 6];
                    width = (jpeg[at + 7] << 8) | jpeg[at + 8];
                    return width > 0 && height > 0;
                case JpegMarkerKind.Segment:
                    continue;
                default:
                    return false; // cut short, malformed, a second SOI, or EOI before any SOF
            }
        }
    }
}
