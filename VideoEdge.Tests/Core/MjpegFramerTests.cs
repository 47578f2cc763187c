using System.Text;
using VideoEdge.Frames;
using VideoEdge.Viewers;

namespace VideoEdge.Tests.Core;

public sealed class MjpegFramerTests
{
    [Fact]
    public void A_part_is_headers_jpeg_and_the_next_boundary_byte_for_byte()
    {
        var pool = new FramePool();
        var frame = pool.RentCopy([0xFF, 0xD8, 0x01, 0xFF, 0xD9]);
        frame.TimestampMicros = 1_700_000_000_123_456;
        frame.Sequence = 42;
        var head = new byte[MjpegFramer.Instance.MaxHeadBytes];
        var n = MjpegFramer.Instance.WriteHead(frame, head);
        byte[] part = [.. head.AsSpan(0, n), .. frame.Span, .. MjpegFramer.Instance.Tail.Span];

        var expectedHead = "Content-Type: image/jpeg\r\nContent-Length: 5\r\nX-Timestamp: 1700000000.123456\r\nX-Frame-Sequence: 42\r\n\r\n";
        byte[] expected = [.. Encoding.ASCII.GetBytes(expectedHead), 0xFF, 0xD8, 0x01, 0xFF, 0xD9, .. "\r\n--videoedgeframe\r\n"u8.ToArray()];
        Assert.Equal(expected, part);
        Assert.Equal("--videoedgeframe\r\n", Encoding.ASCII.GetString(MjpegFramer.Preamble.Span));
        frame.Release();
    }

    [Theory]
    [InlineData(0, "0.000000")]
    [InlineData(1_000_001, "1.000001")]
    [InlineData(1_795_530_201_630_000, "1795530201.630000")]
    public void Timestamps_have_six_decimals(long micros, string text)
    {
        Span<byte> buffer = stackalloc byte[32];
        var n = MjpegFramer.FormatSeconds(micros, buffer);
        Assert.Equal(text, Encoding.ASCII.GetString(buffer[..n]));
    }
}
