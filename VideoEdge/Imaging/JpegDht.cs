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
    public static ReadOnlySpan<byte> StandardTables => StandardSegment;

    private static readonly byte[] StandardSegment = Convert.FromHexString(
        "FFC4" + "01A2" // DHT, 418 bytes long
        + "00" + "00010501010101010100000000000000" + "000102030405060708090A0B" // Luminance DC (Table K.3)
        + "10" + "0002010303020403050504040000017D" // Luminance AC (Table K.5)
        + "01020300041105122131410613516107227114328191A1082342B1C11552D1F02433627282090A161718191A25262728292A3435363738393A434445464748494A535455565758595A636465666768696A737475767778797A838485868788898A92939495969798999AA2A3A4A5A6A7A8A9AAB2B3B4B5B6B7B8B9BAC2C3C4C5C6C7C8C9CAD2D3D4D5D6D7D8D9DAE1E2E3E4E5E6E7E8E9EAF1F2F3F4F5F6F7F8F9FA"
        + "01" + "00030101010101010101010000000000" + "000102030405060708090A0B" // Chrominance DC (Table K.4)
        + "11" + "00020102040403040705040400010277" // Chrominance AC (Table K.6)
        + "000102031104052131061241510761711322328108144291A1B1C109233352F0156272D10A162434E125F11718191A262728292A35363738393A434445464748494A535455565758595A636465666768696A737475767778797A82838485868788898A92939495969798999AA2A3A4A5A6A7A8A9AAB2B3B4B5B6B7B8B9BAC2C3C4C5C6C7C8C9CAD2D3D4D5D6D7D8D9DAE2E3E4E5E6E7E8E9EAF2F3F4F5F6F7F8F9FA");
}
