using System.Text;
using OpenCvSharp;
using VideoEdge.Imaging;
using VideoEdge.Sources;

namespace VideoEdge.Tests.Exec;

/// <summary>
/// Splitting a program's stdout into JPEGs (a pure function of the bytes): every test feeds the
/// same stream whole, byte by byte and in odd-sized chunks, and expects the same frames.
/// </summary>
public sealed class JpegStreamSplitterTests
{
    private static readonly int[] ChunkSizes = [1, 2, 3, 7, 1000, 65536];

    /// <summary>SOI, APP0, a length-walked segment, SOS, entropy data, EOI — a synthetic frame the splitter accepts.</summary>
    private static byte[] Frame(byte[] entropyData, params byte[][] segments)
    {
        var bytes = new List<byte> { 0xFF, 0xD8 };
        bytes.AddRange(Segment(0xE0, "JFIF\0\x01\x02\0\0\x01\0\x01\0\0"u8.ToArray()));
        foreach (var s in segments)
        {
            bytes.AddRange(s);
        }
        bytes.AddRange(Segment(0xDA, [1, 1, 0, 0, 63, 0]));
        bytes.AddRange(entropyData);
        bytes.AddRange([0xFF, 0xD9]);
        return [.. bytes];
    }

    private static byte[] Segment(byte marker, byte[] payload) =>
        [0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2), .. payload];

    private static List<(JpegSplitStatus Status, byte[] Bytes)> Split(byte[] stream, int chunk, int maxFrameBytes = 1 << 20)
    {
        var splitter = new JpegStreamSplitter(maxFrameBytes);
        var results = new List<(JpegSplitStatus, byte[])>();
        var offset = 0;
        while (true)
        {
            var status = splitter.TryReadFrame(out var frame);
            if (status == JpegSplitStatus.NeedMoreData)
            {
                if (offset == stream.Length)
                {
                    return results;
                }
                var memory = splitter.GetWriteMemory();
                var n = Math.Min(Math.Min(chunk, memory.Length), stream.Length - offset);
                stream.AsSpan(offset, n).CopyTo(memory.Span);
                splitter.Advance(n);
                offset += n;
                continue;
            }
            results.Add((status, frame.ToArray()));
        }
    }

    private static void AssertFrames(byte[] stream, params byte[][] expected)
    {
        foreach (var chunk in ChunkSizes)
        {
            var frames = Split(stream, chunk);
            Assert.True(frames.All(f => f.Status == JpegSplitStatus.Frame), $"chunk {chunk}: {string.Join(", ", frames.Select(f => f.Status))}");
            Assert.Equal(expected.Length, frames.Count);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.True(expected[i].AsSpan().SequenceEqual(frames[i].Bytes), $"chunk {chunk}: frame {i} differs ({frames[i].Bytes.Length} bytes, expected {expected[i].Length})");
            }
        }
    }

    [Fact]
    public void ConcatenatedFramesComeOutByteForByte()
    {
        var a = Frame([1, 2, 3, 4]);
        var b = Frame([5, 6, 7]);
        AssertFrames([.. a, .. b, .. a], a, b, a);
    }

    [Fact]
    public void StuffedBytesRestartMarkersAndFillBytesDoNotEndAFrame()
    {
        // FF 00 is a data byte FF; FF D0-D7 restart markers; FF FF… fill before the EOI.
        var a = Frame([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0x00, 0xFF, 0xD7, 0xFF, 0x00, 0xD9, 0xFF, 0xFF]);
        var b = Frame([0xFF, 0x00, 0xD8]);
        AssertFrames([.. a, .. b], a, b);
    }

    [Fact]
    public void AnEoiInsideASegment_SuchAsAnExifThumbnail_DoesNotEndTheFrame()
    {
        var thumbnail = Frame([9, 9, 9]);
        var exif = Segment(0xE1, [.. "Exif\0\0"u8, .. thumbnail]);
        var icc = Segment(0xE2, [0xFF, 0xD9, 0xFF, 0xD8, 0xFF, 0xDA]);
        var a = Frame([1, 2, 3], exif, icc);
        AssertFrames([.. a, .. a], a, a);
    }

    [Fact]
    public void GarbageBetweenFrames_IncludingMultipartHeadersAndFalseSois_IsSkipped()
    {
        var a = Frame([1, 2]);
        var b = Frame([3, 4]);
        var multipart = "\r\n--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 123\r\n\r\n"u8.ToArray();
        byte[] falseStarts = [0xFF, 0xD8, 0x00, 0x41, 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xFF, 0xD8, 0x99, 0xFF];
        byte[] stream = [.. "log line\n"u8, .. multipart, .. a, .. falseStarts, .. multipart, .. b, .. "\r\n--frame--\r\n"u8, 0xFF];
        AssertFrames(stream, a, b);

        var splitter = new JpegStreamSplitter(1 << 20);
        stream.CopyTo(splitter.GetWriteMemory().Span);
        splitter.Advance(stream.Length);
        while (splitter.TryReadFrame(out _) != JpegSplitStatus.NeedMoreData)
        {
        }
        // All but the frames, less the final FF, which is kept: it may begin the next SOI.
        Assert.Equal(stream.Length - a.Length - b.Length - 1, splitter.SkippedBytes);
    }

    [Fact]
    public void ProgressiveScansWithTablesBetweenThemMakeOneFrame()
    {
        var dht = Segment(0xC4, [0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        var sos = Segment(0xDA, [1, 1, 0, 0, 0, 0]);
        byte[] rest = [0x11, 0xFF, 0x00, .. dht, .. sos, 0x22, 0xFF, 0xD1, 0x33];
        var a = Frame(rest);
        AssertFrames([.. a, .. Frame([7])], a, Frame([7]));
    }

    [Fact]
    public void AFrameCutShortIsReportedAndTheNextOneIsWhole()
    {
        var whole = Frame([1, 2, 3, 4, 5, 6]);
        var cut = whole[..^4];
        var next = Frame([8]);
        foreach (var chunk in ChunkSizes)
        {
            var frames = Split([.. cut, .. next, .. whole], chunk);
            Assert.Equal([JpegSplitStatus.Truncated, JpegSplitStatus.Frame, JpegSplitStatus.Frame], frames.Select(f => f.Status));
            Assert.Equal(next, frames[1].Bytes);
            Assert.Equal(whole, frames[2].Bytes);
        }
    }

    [Fact]
    public void AFrameOverTheLimitIsDroppedWithoutBufferingItWhole_AndTheStreamGoesOn()
    {
        var big = Frame([.. Enumerable.Range(0, 150_000).Select(i => (byte)(i % 200))]);
        var small = Frame([1]);
        // In small reads it is cut off at the limit; in one large read it is whole but still too large.
        foreach (var chunk in new[] { 4096, 65536, 1 << 20 })
        {
            var frames = Split([.. small, .. big, .. small, .. big, .. small], chunk, maxFrameBytes: 100_000);
            Assert.Equal([JpegSplitStatus.Frame, JpegSplitStatus.TooLarge, JpegSplitStatus.Frame, JpegSplitStatus.TooLarge, JpegSplitStatus.Frame], frames.Select(f => f.Status));
            Assert.All(frames.Where(f => f.Status == JpegSplitStatus.Frame), f => Assert.Equal(small, f.Bytes));
        }
    }

    [Fact]
    public void RealEncoderOutput_BaselineWithRestartIntervalsAndProgressive_SplitsIntoTheEncodedFiles()
    {
        Assert.True(OpenCvRuntime.TryEnsure(out var error), error);
        using var image = new Mat(240, 320, MatType.CV_8UC3);
        Cv2.Randu(image, Scalar.All(0), Scalar.All(255));
        Cv2.ImEncode(".jpg", image, out var baseline, new ImageEncodingParam(ImwriteFlags.JpegQuality, 95));
        Cv2.ImEncode(".jpg", image, out var restarts, new ImageEncodingParam(ImwriteFlags.JpegRstInterval, 2));
        Cv2.ImEncode(".jpg", image, out var progressive, new ImageEncodingParam(ImwriteFlags.JpegProgressive, 1));
        Assert.True(restarts.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD3]) > 0, "the encoder wrote restart markers");
        Assert.True(baseline.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0x00]) > 0, "the encoder stuffed FF bytes");
        var noDht = Fakes.FakeCamera.StripDht(baseline);
        AssertFrames([.. baseline, .. Encoding.ASCII.GetBytes("junk"), .. restarts, .. progressive, .. noDht], baseline, restarts, progressive, noDht);
    }
}
