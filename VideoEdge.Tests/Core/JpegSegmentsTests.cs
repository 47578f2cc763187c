using VideoEdge.Frames;
using VideoEdge.Imaging;

namespace VideoEdge.Tests.Core;

/// <summary>
/// The one JPEG marker walker, byte by byte: what it reports for well-formed and hostile headers,
/// that it resumes where more bytes arrive, and that the readers built on it agree.
/// </summary>
public sealed class JpegSegmentsTests
{
    private static byte[] Segment(byte marker, params byte[] payload) =>
        [0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];

    private static readonly byte[] Sof0 = Segment(0xC0, 8, 0x01, 0xE0, 0x02, 0x80, 1, 1, 0x11, 0); // 640x480

    /// <summary>
    /// SOI; APP1 whose payload holds FF D9 and FF D8 (a thumbnail); fill bytes; RST0 and TEM in the
    /// header; SOF0; DHT; SOS; entropy data with FF 00, RST, fill bytes; a second scan; EOI.
    /// </summary>
    private static byte[] Jpeg() =>
    [
        0xFF, 0xD8,
        .. Segment(0xE1, 0xFF, 0xD8, 0xFF, 0xD9, 0x00),
        0xFF, 0xFF, 0xFF,
        .. Segment(0xDB, 0, 1, 2),
        0xFF, 0xD0, 0xFF, 0x01,
        .. Sof0,
        .. Segment(0xC4, 0x00, 1, 2),
        .. Segment(0xDA, 1, 1, 0),
        0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56, 0xFF, 0xFF, 0xFF, 0x00, 0x78,
        .. Segment(0xDA, 1, 1, 0),
        0x9A, 0xFF, 0xFF, 0xD9,
    ];

    private static List<(JpegMarkerKind Kind, byte Marker, int Offset, int Length)> Walk(ReadOnlySpan<byte> data)
    {
        var found = new List<(JpegMarkerKind, byte, int, int)>();
        var segments = new JpegSegments(data);
        while (true)
        {
            var kind = segments.Next();
            if (kind is JpegMarkerKind.NeedMoreData or JpegMarkerKind.Invalid)
            {
                found.Add((kind, 0, segments.Position, 0));
                return found;
            }
            found.Add((kind, segments.Marker, segments.Offset, segments.Length));
            if (kind == JpegMarkerKind.EndOfImage)
            {
                return found;
            }
        }
    }

    [Fact]
    public void WalksSegmentsByLengthAndTheScanByItsMarkersToEoi()
    {
        var jpeg = Jpeg();
        var walk = Walk(jpeg);
        Assert.Equal(
        [
            (JpegMarkerKind.Segment, (byte)0xE1, 2, 7),        // its FF D9 / FF D8 are payload
            (JpegMarkerKind.Segment, (byte)0xDB, 14, 5),       // after three fill bytes
            (JpegMarkerKind.Standalone, (byte)0xD0, 21, 0),
            (JpegMarkerKind.Standalone, (byte)0x01, 23, 0),
            (JpegMarkerKind.Segment, (byte)0xC0, 25, 11),
            (JpegMarkerKind.Segment, (byte)0xC4, 38, 5),
            (JpegMarkerKind.Segment, (byte)0xDA, 45, 5),
            // 12 bytes of entropy data (stuffing, RST3, fill bytes) are skipped: the next scan.
            (JpegMarkerKind.Segment, (byte)0xDA, 64, 5),
            (JpegMarkerKind.EndOfImage, (byte)0xD9, jpeg.Length - 2, 0),
        ], walk);
    }

    [Fact]
    public void ResumesWhereTheDataEndedWhicheverByteThatIs()
    {
        var jpeg = Jpeg();
        var whole = Walk(jpeg);
        // Walk a growing prefix, keeping only Position and InScan between calls, as the splitter does.
        var found = new List<(JpegMarkerKind, byte, int, int)>();
        int position = 2, needMore = 0;
        var inScan = false;
        for (var available = 2; available <= jpeg.Length; available++)
        {
            var segments = new JpegSegments(jpeg.AsSpan(0, available), position, inScan);
            JpegMarkerKind kind;
            while ((kind = segments.Next()) is not (JpegMarkerKind.NeedMoreData or JpegMarkerKind.EndOfImage))
            {
                found.Add((kind, segments.Marker, segments.Offset, segments.Length));
            }
            position = segments.Position;
            inScan = segments.InScan;
            if (kind == JpegMarkerKind.EndOfImage)
            {
                found.Add((kind, segments.Marker, segments.Offset, segments.Length));
                Assert.Equal(jpeg.Length, available);
                break;
            }
            needMore++;
        }
        Assert.Equal(whole, found);
        Assert.Equal(jpeg.Length - 2, needMore);
    }

    [Fact]
    public void ALengthRunningPastTheEndNeedsMoreDataAndNoReaderAcceptsIt()
    {
        byte[] jpeg = [0xFF, 0xD8, .. Sof0, 0xFF, 0xDB, 0x40, 0x00, 1, 2, 3, 0xFF, 0xD9];
        var walk = Walk(jpeg);
        Assert.Equal((JpegMarkerKind.NeedMoreData, (byte)0, 2 + Sof0.Length + 2 + 0x4000, 0), walk[^1]);
        Assert.True(walk[^1].Offset > jpeg.Length);

        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect(jpeg, out _, out _));
        // The frame header before it still gives the size; without it, nothing does.
        Assert.True(JpegHeader.TryReadSize(jpeg, out var width, out var height));
        Assert.Equal((640, 480), (width, height));
        Assert.False(JpegHeader.TryReadSize([0xFF, 0xD8, 0xFF, 0xE0, 0x40, 0x00, 1, 2, .. Sof0, 0xFF, 0xD9], out _, out _));
        // A SOF whose own length reaches past the end.
        Assert.False(JpegHeader.TryReadSize([0xFF, 0xD8, .. Sof0.AsSpan(0, 7)], out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void ASegmentLengthBelowTwoIsInvalid(int length)
    {
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, (byte)length, 0xFF, 0xE0, 0x00, 0x02, .. Sof0, .. Segment(0xDA, 1, 1, 0), 0x12, 0xFF, 0xD9];
        Assert.Equal((JpegMarkerKind.Invalid, (byte)0, 2, 0), Walk(jpeg)[^1]);
        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect(jpeg, out _, out _));
        Assert.False(JpegHeader.TryInspect(jpeg, out _, out _));
    }

    [Fact]
    public void AMissingScanEndsAtEoiAndIsNoFrameToServe()
    {
        byte[] jpeg = [0xFF, 0xD8, .. Segment(0xDB, 0, 1), .. Segment(0xC4, 0, 1), 0xFF, 0xD9];
        Assert.Equal(
            [(JpegMarkerKind.Segment, (byte)0xDB, 2, 4), (JpegMarkerKind.Segment, (byte)0xC4, 8, 4), (JpegMarkerKind.EndOfImage, (byte)0xD9, 14, 0)],
            Walk(jpeg));
        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect(jpeg, out _, out _));
        Assert.False(JpegHeader.TryInspect(jpeg, out _, out _));
    }

    [Fact]
    public void ANestedSoiIsReportedInTheHeaderAndInTheScanAndNoReaderAcceptsIt()
    {
        byte[] inHeader = [0xFF, 0xD8, 0xFF, 0xD8, .. Sof0, .. Segment(0xDA, 1, 1, 0), 0x12, 0xFF, 0xD9];
        Assert.Equal((JpegMarkerKind.StartOfImage, (byte)0xD8, 2, 0), Walk(inHeader)[0]);
        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect(inHeader, out _, out _));
        Assert.False(JpegHeader.TryReadSize(inHeader, out _, out _));

        byte[] inScan = [0xFF, 0xD8, .. Sof0, .. Segment(0xDA, 1, 1, 0), 0x12, 0xFF, 0xFF, 0xD8, 0x34, 0xFF, 0xD9];
        var segments = new JpegSegments(inScan, 2 + Sof0.Length + 7, inScan: true);
        Assert.Equal(JpegMarkerKind.StartOfImage, segments.Next());
        Assert.Equal(2 + Sof0.Length + 9, segments.Offset); // the FF right before D8, not the fill byte
        Assert.False(segments.InScan);
    }

    [Fact]
    public void StuffingOrAnyNonMarkerByteInTheHeaderIsInvalid()
    {
        Assert.Equal(JpegMarkerKind.Invalid, Walk([0xFF, 0xD8, 0xFF, 0x00, 0x00, 0x04, 0, 0])[^1].Kind);
        Assert.Equal(JpegMarkerKind.Invalid, Walk([0xFF, 0xD8, 0x12, 0xFF, 0xE0, 0x00, 0x02])[^1].Kind);
        Assert.Equal(JpegMarkerKind.NeedMoreData, Walk([0xFF, 0xD8, 0xFF, 0xFF])[^1].Kind);
    }

    [Fact]
    public void RestartAndTemMarkersInTheHeaderAreSkippedByEveryReader()
    {
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xD5, .. Sof0, 0xFF, 0x01, .. JpegDht.StandardTables, .. Segment(0xDA, 1, 1, 0), 0x12, 0xFF, 0xD9];
        Assert.Equal(JpegCheck.Complete, JpegDht.Inspect(jpeg, out var length, out var scan));
        Assert.Equal((jpeg.Length, 0xDA), (length, jpeg[scan + 1]));
        Assert.True(JpegHeader.TryInspect(jpeg, out var width, out var height));
        Assert.Equal((640, 480), (width, height));
    }

    [Fact]
    public void WalkingAllocatesNothing()
    {
        var jpeg = Jpeg();
        static int Count(ReadOnlySpan<byte> data)
        {
            var segments = new JpegSegments(data);
            var n = 0;
            while (segments.Next() is not (JpegMarkerKind.EndOfImage or JpegMarkerKind.NeedMoreData or JpegMarkerKind.Invalid))
            {
                n++;
            }
            return n;
        }
        Count(jpeg);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var total = 0;
        for (var i = 0; i < 1000; i++)
        {
            total += Count(jpeg);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(8000, total);
    }
}
