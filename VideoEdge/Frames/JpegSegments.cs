namespace VideoEdge.Frames;

/// <summary>What <see cref="JpegSegments.Next"/> found.</summary>
public enum JpegMarkerKind
{
    /// <summary>The data ends before the next marker (or inside its length): more bytes, or a cut-short JPEG.</summary>
    NeedMoreData,

    /// <summary>Not a marker where one must be (a byte other than FF, FF 00, or a length below 2).</summary>
    Invalid,

    /// <summary>A marker with a length, <see cref="JpegSegments.Length"/>; after SOS the walker is in the scan.</summary>
    Segment,

    /// <summary>TEM or RSTn: a marker without a length.</summary>
    Standalone,

    /// <summary>SOI (FF D8): inside a JPEG, a new one began.</summary>
    StartOfImage,

    /// <summary>EOI (FF D9).</summary>
    EndOfImage,
}

/// <summary>
/// Walks the markers of a JPEG (ITU-T T.81 B.1) without decoding it — the one set of rules every
/// reader of JPEG structure here uses. Fill bytes (FF FF…) before a marker are skipped; TEM and RSTn
/// have no length; every other marker but SOI and EOI has a big-endian length of at least 2 that
/// counts itself, and the walk jumps over it, so an EOI inside an EXIF thumbnail or an ICC profile is
/// never seen. After SOS comes entropy-coded data: there FF 00 is a stuffed data byte and RSTn, fill
/// bytes too, belong to the data; the next other marker (EOI, or DHT/SOS/… between the scans of a
/// progressive JPEG) is returned. Allocation-free; resumable: a caller whose data is still arriving
/// keeps <see cref="Position"/> and <see cref="InScan"/> and walks on from there with more bytes.
/// </summary>
public ref struct JpegSegments
{
    public const byte Soi = 0xD8;
    public const byte Eoi = 0xD9;
    public const byte Sos = 0xDA;
    public const byte Dht = 0xC4;

    private readonly ReadOnlySpan<byte> _data;

    /// <param name="data">The JPEG, or as much of it as has arrived.</param>
    /// <param name="position">Where the next marker is expected (2: right after the SOI).</param>
    /// <param name="inScan">Whether <paramref name="position"/> is inside entropy-coded data.</param>
    public JpegSegments(ReadOnlySpan<byte> data, int position = 2, bool inScan = false)
    {
        _data = data;
        Position = position;
        InScan = inScan;
    }

    /// <summary>Where the walk goes on; after a segment whose length reaches past the data, beyond its end.</summary>
    public int Position { get; private set; }

    /// <summary>True after SOS until the marker that ends the entropy-coded data.</summary>
    public bool InScan { get; private set; }

    /// <summary>Where the marker last returned starts (its FF; fill bytes before it are not counted).</summary>
    public int Offset { get; private set; }

    /// <summary>The marker last returned (the byte after FF).</summary>
    public byte Marker { get; private set; }

    /// <summary>The segment's length field (payload + 2), or 0 for a marker without one.</summary>
    public int Length { get; private set; }

    /// <summary>SOF0…SOF15 (a frame header, which gives the size), not DHT, JPG and DAC, which share the range.</summary>
    public static bool IsStartOfFrame(byte marker) => marker is >= 0xC0 and <= 0xCF and not Dht and not 0xC8 and not 0xCC;

    /// <summary>The next marker from <see cref="Position"/>.</summary>
    public JpegMarkerKind Next()
    {
        var data = _data;
        if (InScan && !SkipEntropyCodedData(data))
        {
            return JpegMarkerKind.NeedMoreData;
        }
        while (true)
        {
            var position = Position;
            if (position + 2 > data.Length)
            {
                return JpegMarkerKind.NeedMoreData;
            }
            if (data[position] != 0xFF)
            {
                return JpegMarkerKind.Invalid;
            }
            var marker = data[position + 1];
            if (marker == 0xFF)
            {
                Position = position + 1; // a fill byte before the marker
                continue;
            }
            Offset = position;
            Marker = marker;
            Length = 0;
            switch (marker)
            {
                case 0x00:
                    return JpegMarkerKind.Invalid; // stuffing belongs to entropy-coded data only
                case Soi:
                    Position = position + 2;
                    return JpegMarkerKind.StartOfImage;
                case Eoi:
                    Position = position + 2;
                    return JpegMarkerKind.EndOfImage;
                case 0x01 or (>= 0xD0 and <= 0xD7):
                    Position = position + 2;
                    return JpegMarkerKind.Standalone;
            }
            if (position + 4 > data.Length)
            {
                return JpegMarkerKind.NeedMoreData;
            }
            var length = (data[position + 2] << 8) | data[position + 3];
            if (length < 2)
            {
                return JpegMarkerKind.Invalid;
            }
            Length = length;
            Position = position + 2 + length;
            InScan = marker == Sos;
            return JpegMarkerKind.Segment;
        }
    }

    /// <summary>Moves <see cref="Position"/> to the marker that ends the entropy-coded data; false if it has not arrived.</summary>
    private bool SkipEntropyCodedData(ReadOnlySpan<byte> data)
    {
        // The scan header's length may reach past what has arrived so far.
        if (Position > data.Length)
        {
            return false;
        }
        while (true)
        {
            var at = data[Position..].IndexOf((byte)0xFF);
            if (at < 0)
            {
                Position = data.Length;
                return false;
            }
            Position += at;
            if (Position + 2 > data.Length)
            {
                return false;
            }
            switch (data[Position + 1])
            {
                case 0x00 or (>= 0xD0 and <= 0xD7):
                    Position += 2; // a stuffed FF data byte, or a restart marker
                    continue;
                case 0xFF:
                    Position++; // fill byte: the next FF starts the marker
                    continue;
                default:
                    InScan = false;
                    return true;
            }
        }
    }
}
