using OpenCvSharp;
using VideoEdge.Imaging;
using VideoEdge.Tests.Fakes;

namespace VideoEdge.Tests.V4l2;

/// <summary>Frame checks and Huffman-table insertion for MJPEG passthrough (pure functions).</summary>
public sealed class JpegDhtTests
{
    /// <summary>A real baseline JPEG from OpenCV's libjpeg, which writes the standard tables.</summary>
    private static byte[] EncodeTestImage(out Mat image)
    {
        Assert.True(OpenCvRuntime.TryEnsure(out var error), error);
        image = new Mat(120, 160, MatType.CV_8UC3);
        Cv2.Randu(image, Scalar.All(0), Scalar.All(255));
        Cv2.Circle(image, new Point(80, 60), 40, Scalar.White, -1);
        Cv2.ImEncode(".jpg", image, out var jpeg, new ImageEncodingParam(ImwriteFlags.JpegQuality, 90));
        return jpeg;
    }

    private static Dictionary<byte, byte[]> TablesOf(ReadOnlySpan<byte> jpeg)
    {
        var tables = new Dictionary<byte, byte[]>();
        var pos = 2;
        while (jpeg[pos + 1] != 0xDA)
        {
            var length = jpeg[pos + 2] << 8 | jpeg[pos + 3];
            if (jpeg[pos + 1] == 0xC4)
            {
                var t = pos + 4;
                while (t < pos + 2 + length)
                {
                    var count = 0;
                    for (var i = 1; i <= 16; i++)
                    {
                        count += jpeg[t + i];
                    }
                    tables.Add(jpeg[t], jpeg.Slice(t + 1, 16 + count).ToArray());
                    t += 17 + count;
                }
                Assert.Equal(pos + 2 + length, t);
            }
            pos += 2 + length;
        }
        return tables;
    }

    [Fact]
    public void StandardTablesAreWellFormedAndEqualLibjpegs()
    {
        var ours = TablesOf([0xFF, 0xD8, .. JpegDht.StandardTables, 0xFF, 0xDA]);
        Assert.Equal(new byte[] { 0x00, 0x01, 0x10, 0x11 }, ours.Keys.Order());
        Assert.Equal(12 + 16, ours[0x00].Length);
        Assert.Equal(162 + 16, ours[0x10].Length);

        var libjpeg = TablesOf(EncodeTestImage(out var image));
        image.Dispose();
        Assert.Equal(libjpeg.Keys.Order(), ours.Keys.Order());
        foreach (var (id, table) in libjpeg)
        {
            Assert.Equal(table, ours[id]);
        }
    }

    [Fact]
    public void AFrameWithoutTablesDecodesToTheSamePixelsOnceTheyAreInserted()
    {
        var original = EncodeTestImage(out var image);
        using var source = image;
        var stripped = FakeCamera.StripDht(original);
        Assert.Equal(JpegCheck.NeedsTables, JpegDht.Inspect(stripped, out var length, out var scan));
        Assert.Equal(stripped.Length, length);
        Assert.Equal(0xDA, stripped[scan + 1]);

        var fixedUp = new byte[JpegDht.LengthWithTables(length)];
        Assert.Equal(fixedUp.Length, JpegDht.CopyWithTables(stripped, length, scan, fixedUp));
        Assert.Equal(stripped[..scan], fixedUp[..scan]);
        Assert.Equal(JpegDht.StandardTables.ToArray(), fixedUp[scan..(scan + JpegDht.StandardTables.Length)]);
        Assert.Equal(stripped[scan..], fixedUp[(scan + JpegDht.StandardTables.Length)..]);
        Assert.Equal(JpegCheck.Complete, JpegDht.Inspect(fixedUp, out _, out _));

        using var expected = Cv2.ImDecode(original, ImreadModes.Color);
        using var actual = Cv2.ImDecode(fixedUp, ImreadModes.Color);
        Assert.False(actual.Empty());
        using var diff = new Mat();
        Cv2.Absdiff(expected, actual, diff);
        Assert.Equal(0, Cv2.CountNonZero(diff.Reshape(1)));
    }

    [Fact]
    public void CompleteFramesPassAndBrokenOnesAreRejected()
    {
        var jpeg = EncodeTestImage(out var image);
        image.Dispose();
        Assert.Equal(JpegCheck.Complete, JpegDht.Inspect(jpeg, out var length, out _));
        Assert.Equal(jpeg.Length, length);

        // Zero padding after EOI (left by some drivers) is accepted and not counted.
        Assert.Equal(JpegCheck.Complete, JpegDht.Inspect([.. jpeg, 0, 0, 0, 0], out length, out _));
        Assert.Equal(jpeg.Length, length);

        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect(jpeg.AsSpan(0, jpeg.Length / 2), out _, out _));
        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect(jpeg.AsSpan(0, jpeg.Length - 1), out _, out _));
        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect([], out _, out _));
        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect(new byte[4096], out _, out _));
        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect(jpeg.AsSpan(1), out _, out _));
        // Headers cut short but ending in EOI bytes: the segment walk runs off the end.
        Assert.Equal(JpegCheck.Invalid, JpegDht.Inspect([.. jpeg.AsSpan(0, 40), 0xFF, 0xD9], out _, out _));
    }
}
