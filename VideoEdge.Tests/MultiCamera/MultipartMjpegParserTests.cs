using System.Text;
using VideoEdge.Relay;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>The relay's stream splitter against the formats real servers send, fed in every chunk size.</summary>
public sealed class MultipartMjpegParserTests
{
    public static TheoryData<string, int> StylesAndChunks()
    {
        var data = new TheoryData<string, int>();
        foreach (var style in new[] { "ustreamer", "mjpg-streamer", "quoted boundary", "no Content-Length", "bare LF", "undeclared boundary" })
        {
            foreach (var chunk in new[] { 1, 7, 1000, int.MaxValue })
            {
                data.Add(style, chunk);
            }
        }
        return data;
    }

    private static RecordedStream Style(string name, IReadOnlyList<byte[]> jpegs) =>
        MjpegStreams.AllStyles.Select(s => s(jpegs)).Single(s => s.Name == name);

    [Theory]
    [MemberData(nameof(StylesAndChunks))]
    public void Every_part_comes_out_byte_identical(string style, int chunk)
    {
        var jpegs = MjpegStreams.Jpegs();
        var stream = Style(style, jpegs);
        // Twice the first part again: a part without Content-Length ends only when the next delimiter arrives.
        var (parts, dropped) = Parse(BoundaryOf(stream.ContentType), [.. stream.Bytes, .. stream.Parts[0], .. stream.Parts[0]], chunk);
        Assert.Equal([.. jpegs, jpegs[0]], parts.Take(jpegs.Count + 1));
        Assert.Equal(0, dropped);
    }

    [Fact]
    public void A_thumbnail_inside_a_part_without_content_length_does_not_end_the_part()
    {
        var jpegs = MjpegStreams.Jpegs(2);
        Assert.True(jpegs[1].AsSpan().IndexOf([(byte)0xFF, (byte)0xD9]) < jpegs[1].Length - 2, "fixture: the thumbnail's EOI comes first");
        var stream = MjpegStreams.NoContentLength(jpegs);
        var (parts, _) = Parse("frame", [.. stream.Bytes, .. stream.Parts[0]], 4096);
        Assert.Equal(2, parts.Count);
        Assert.Equal(jpegs[1], parts[1]);
    }

    [Fact]
    public void A_part_over_the_cap_is_dropped_without_buffering_it_and_the_next_is_fine()
    {
        var jpegs = MjpegStreams.Jpegs(3);
        var big = new byte[3000];
        big[0] = 0xFF;
        big[1] = 0xD8;
        var input = Encoding.ASCII.GetBytes("--b\r\n")
            .Concat(Part(jpegs[0], "--b")).Concat(Part(big, "--b")).Concat(Part(jpegs[1], "--b")).ToArray();
        var (parts, dropped) = Parse("b", input, 512, maxPartBytes: 2048);
        Assert.Equal([jpegs[0], jpegs[1]], parts);
        Assert.Equal(1, dropped);
    }

    [Fact]
    public void An_endless_part_without_content_length_is_dropped_at_the_cap()
    {
        var jpegs = MjpegStreams.Jpegs(2);
        var noise = new byte[20_000];
        new Random(1).NextBytes(noise);
        var input = Encoding.ASCII.GetBytes("--b\r\n\r\n").Concat(noise)
            .Concat(Encoding.ASCII.GetBytes("\r\n--b\r\n\r\n")).Concat(jpegs[0]).Concat(Encoding.ASCII.GetBytes("\r\n--b\r\n")).ToArray();
        var (parts, dropped) = Parse("b", input, 1000, maxPartBytes: 4096);
        Assert.Equal(1, dropped);
        Assert.Equal([jpegs[0]], parts);
    }

    [Fact]
    public void Junk_before_the_first_boundary_is_skipped()
    {
        var jpegs = MjpegStreams.Jpegs(2);
        var stream = MjpegStreams.UStreamer(jpegs);
        var input = Encoding.ASCII.GetBytes("some preamble text\r\nthat is not a part\r\n").Concat(stream.Bytes).Concat(stream.Parts[0]).ToArray();
        var (parts, _) = Parse("boundarydonotcross", input, 13);
        Assert.Equal([.. jpegs, jpegs[0]], parts);
    }

    [Fact]
    public void A_stream_without_any_boundary_is_rejected_as_not_mjpeg()
    {
        var html = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("<html><body>not a stream</body></html>\r\n", 20_000)));
        var ex = Assert.Throws<InvalidDataException>(() => Parse("boundarydonotcross", html, 65536, maxPartBytes: 64 * 1024));
        Assert.Contains("not an MJPEG stream", ex.Message);
    }

    [Fact]
    public void Steady_parsing_allocates_nothing_per_part()
    {
        var jpegs = MjpegStreams.Jpegs();
        var stream = MjpegStreams.UStreamer(jpegs);
        var parser = new MultipartMjpegParser("boundarydonotcross", 1 << 20);
        var count = 0;
        Action<byte[]?> onPart = _ => count++;
        Action onDropped = () => { };
        Feed(parser, stream.Bytes, 4096, onPart, onDropped, copy: false);
        // The least of a few rounds: the runtime's tiered JIT now and then allocates on this thread too.
        var least = long.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 400; i++)
            {
                Feed(parser, stream.Parts[i % jpegs.Count], 4096, onPart, onDropped, copy: false);
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(count >= 2000, $"{count} parts");
        Assert.True(least < 1024, $"{least} bytes allocated for 400 parts");
    }

    private static IEnumerable<byte> Part(byte[] body, string delimiter) =>
        Encoding.ASCII.GetBytes($"Content-Type: image/jpeg\r\nContent-Length: {body.Length}\r\n\r\n").Concat(body).Concat(Encoding.ASCII.GetBytes($"\r\n{delimiter}\r\n"));

    internal static string? BoundaryOf(string contentType)
    {
        var at = contentType.IndexOf("boundary=", StringComparison.Ordinal);
        return at < 0 ? null : contentType[(at + 9)..];
    }

    private static (List<byte[]> Parts, int Dropped) Parse(string? boundary, byte[] input, int chunk, int maxPartBytes = 1 << 20)
    {
        var parser = new MultipartMjpegParser(boundary, maxPartBytes);
        var parts = new List<byte[]>();
        var dropped = 0;
        Feed(parser, input, chunk, p => parts.Add(p!), () => dropped++);
        return (parts, dropped);
    }

    private static void Feed(MultipartMjpegParser parser, byte[] input, int chunk, Action<byte[]?> onPart, Action onDropped, bool copy = true)
    {
        var offset = 0;
        while (true)
        {
            var status = parser.TryReadPart(out var part);
            if (status == PartStatus.Part)
            {
                onPart(copy ? part.ToArray() : null);
                continue;
            }
            if (status == PartStatus.Dropped)
            {
                onDropped();
                continue;
            }
            if (offset == input.Length)
            {
                return;
            }
            var memory = parser.GetWriteMemory();
            var n = Math.Min(Math.Min(chunk, memory.Length), input.Length - offset);
            input.AsSpan(offset, n).CopyTo(memory.Span);
            parser.Advance(n);
            offset += n;
        }
    }
}
