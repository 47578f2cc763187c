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
        var i = 2;
        while (i + 4 <= jpeg.Length)
        {
            if (jpeg[i] != 0xFF)
            {
                return false;
            }
            var marker = jpeg[i + 1];
            if (marker == 0xFF)
            {
                i++; // fill byte
                continue;
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD8))
            {
                i += 2; // markers without a length
                continue;
            }
            if (marker is 0xDA or 0xD9)
            {
                return false; // the scan (or the end) came before any SOF
            }
            var length = (jpeg[i + 2] << 8) | jpeg[i + 3];
            if (length < 2)
            {
                return false;
            }
            // SOF0..SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                if (length < 7 || i + 9 > jpeg.Length)
                {
                    return false;
                }
                height = (jpeg[i + 5] << 8) | jpeg[i + 6];
                width = (jpeg[i + 7] << 8) | jpeg[i + 8];
                return width > 0 && height > 0;
            }
            i += 2 + length;
        }
        return false;
    }
}
