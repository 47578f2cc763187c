using VideoEdge.Frames;

namespace VideoEdge.Imaging;

/// <summary>How a frame from an MJPEG camera can be served.</summary>
public enum JpegCheck
{
    /// <summary>A complete JPEG with its own Huffman tables: pass it through as is.</summary>
    Complete,

    /// <summary>A complete JPEG without DHT (as many UVC cameras send): insert the standard tables.</summary>
    NeedsTables,

    /// <summary>Not a JPEG, or cut short: drop it.</summary>
    Invalid,
}

/// <summary>
/// Inspects MJPEG frames and inserts the standard Huffman tables (ITU-T T.81 Annex K.3) into
/// frames that lack them: motion-JPEG cameras may rely on the decoder knowing them, which
/// browsers do not. A pure function of its input.
/// </summary>
public static class JpegDht
{
    private const byte Marker = 0xFF;

    /// <summary>
    /// Checks <paramref name="frame"/>: starts with SOI, has well-formed segments up to the scan
    /// and ends with EOI (trailing zero padding, which some drivers leave, is allowed and not part of
    /// <paramref name="length"/>). <paramref name="scanOffset"/> is where the SOS marker starts.
    /// </summary>
    public static JpegCheck Inspect(ReadOnlySpan<byte> frame, out int length, out int scanOffset)
    {
        length = 0;
        scanOffset = 0;
        if (frame.Length < 4 || frame[0] != Marker || frame[1] != JpegSegments.Soi)
        {
            return JpegCheck.Invalid;
        }
        var end = frame.Length;
        while (end > 2 && frame[end - 1] == 0)
        {
            end--;
        }
        if (end < 4 || frame[end - 2] != Marker || frame[end - 1] != JpegSegments.Eoi)
        {
            return JpegCheck.Invalid;
        }
        var hasTables = false;
        var segments = new JpegSegments(frame[..end]);
        while (true)
        {
            switch (segments.Next())
            {
                case JpegMarkerKind.Standalone:
                    continue;
                case JpegMarkerKind.Segment when segments.Marker == JpegSegments.Sos:
                    length = end;
                    scanOffset = segments.Offset;
                    return hasTables ? JpegCheck.Complete : JpegCheck.NeedsTables;
                case JpegMarkerKind.Segment:
                    hasTables |= segments.Marker == JpegSegments.Dht;
                    continue;
                default:
                    return JpegCheck.Invalid; // cut short, malformed, a second SOI, or EOI before the scan
            }
        }
    }

    /// <summary>The size of <paramref name="length"/> bytes of a frame once the tables are inserted.</summary>
    public static int LengthWithTables(int length) => length + StandardTables.Length;

    /// <summary>
    /// Copies the first <paramref name="length"/> bytes of <paramref name="frame"/> into
    /// <paramref name="destination"/> with the standard DHT segment placed right before the scan.
    /// Returns the bytes written.
    /// </summary>
    public static int CopyWithTables(ReadOnlySpan<byte> frame, int length, int scanOffset, Span<byte> destination)
    {
        var tables = StandardTables;
        frame[..scanOffset].CopyTo(destination);
        tables.CopyTo(destination[scanOffset..]);
        frame[scanOffset..length].CopyTo(destination[(scanOffset + tables.Length)..]);
        return length + tables.Length;
    }

    /// <summary>
    /// A pooled frame holding the first <paramref name="length"/> bytes of a JPEG that
    /// <see cref="Inspect"/> found usable (<paramref name="check"/> not Invalid), with the standard
    /// tables inserted when it lacks its own: what every passthrough source publishes.
    /// </summary>
    public static Frame RentPlayable(FramePool pool, ReadOnlySpan<byte> jpeg, JpegCheck check, int length, int scanOffset)
    {
        if (check == JpegCheck.Complete)
        {
            return pool.RentCopy(jpeg[..length]);
        }
        var frame = pool.Rent(LengthWithTables(length));
        CopyWithTables(jpeg, length, scanOffset, frame.WritableSpan);
        return frame;
    }

    /// <summary>
    /// One DHT segment with the four tables of T.81 Annex K.3: luminance DC (class 0, id 0),
    /// luminance AC (1, 0), chrominance DC (0, 1), chrominance AC (1, 1). Each table is its
    /// class/id byte, the number of codes of each length 1..16, then the symbols.
    /// </summary>
    public static ReadOnlySpan<byte> StandardTables =>
    [
        0xFF, 0xC4, 0x01, 0xA2,
        // Luminance DC (Table K.3)
        0x00,
        0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
        // Luminance AC (Table K.5)
        0x10,
        0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D,
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
        0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
        0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
        0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
        0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
        0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
        0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
        0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
        0xF9, 0xFA,
        // Chrominance DC (Table K.4)
        0x01,
        0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
        // Chrominance AC (Table K.6)
        0x11,
        0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77,
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
        0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0,
        0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26,
        0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
        0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
        0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
        0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
        0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
        0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
        0xF9, 0xFA,
    ];
}
