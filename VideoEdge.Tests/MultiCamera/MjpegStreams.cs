using System.Text;
using OpenCvSharp;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>A multipart stream as a server sends it: its Content-Type and the bytes of the body.</summary>
public sealed record RecordedStream(string Name, string ContentType, byte[] Preamble, IReadOnlyList<byte[]> Parts, IReadOnlyList<byte[]> Jpegs)
{
    public byte[] Bytes => [.. Preamble, .. Parts.SelectMany(p => p)];

    public override string ToString() => Name;
}

/// <summary>
/// The wire formats MJPEG servers use, byte for byte as they write them (µStreamer and
/// mjpg-streamer: CRLF, Content-Length, X-Timestamp; IP cameras: a quoted boundary with its
/// dashes; Flask-style servers: no Content-Length; bare LF; no declared boundary at all).
/// </summary>
public static class MjpegStreams
{
    /// <summary>Distinct small JPEGs; the last one carries an EXIF thumbnail (a whole JPEG, EOI and all, inside APP1).</summary>
    public static IReadOnlyList<byte[]> Jpegs(int count = 4)
    {
        Assert.True(VideoEdge.Imaging.OpenCvRuntime.TryEnsure(out var error), error);
        var list = new List<byte[]>();
        for (var i = 0; i < count; i++)
        {
            using var image = new Mat(64, 96, MatType.CV_8UC3, new Scalar(40 * i, 255 - 40 * i, 90));
            Cv2.PutText(image, i.ToString(), new Point(30, 45), HersheyFonts.HersheySimplex, 1.2, Scalar.White, 2);
            list.Add(image.ImEncode(".jpg"));
        }
        list[^1] = WithThumbnail(list[^1], list[0]);
        return list;
    }

    /// <summary>Inserts an APP1 segment holding <paramref name="thumbnail"/> right after SOI.</summary>
    public static byte[] WithThumbnail(byte[] jpeg, byte[] thumbnail)
    {
        var payload = Encoding.ASCII.GetBytes("Exif\0\0").Concat(thumbnail).ToArray();
        var length = payload.Length + 2;
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, .. jpeg.AsSpan(2)];
    }

    public static RecordedStream UStreamer(IReadOnlyList<byte[]> jpegs) => Build("ustreamer", "multipart/x-mixed-replace;boundary=boundarydonotcross",
        "--boundarydonotcross\r\n", jpegs, (jpeg, i) =>
            $"Content-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\nX-Timestamp: {1000 + i}.{i:D6}\r\n\r\n", "\r\n--boundarydonotcross\r\n");

    public static RecordedStream MjpgStreamer(IReadOnlyList<byte[]> jpegs) => Build("mjpg-streamer", "multipart/x-mixed-replace;boundary=boundarydonotcross",
        "\r\n--boundarydonotcross\r\n", jpegs, (jpeg, i) =>
            $"Content-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\nX-Timestamp: {1700000000 + i}.{i * 1000:D6}\r\n\r\n", "\r\n--boundarydonotcross\r\n");

    /// <summary>An IP camera that quotes a boundary which already carries the dashes (so lines have four).</summary>
    public static RecordedStream QuotedDashedBoundary(IReadOnlyList<byte[]> jpegs) => Build("quoted boundary", "multipart/x-mixed-replace; boundary=\"--myboundary\"",
        "", jpegs, (jpeg, _) => $"----myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\n\r\n", "\r\n");

    /// <summary>Flask's well-known MJPEG recipe: no Content-Length, the part ends where the next boundary starts.</summary>
    public static RecordedStream NoContentLength(IReadOnlyList<byte[]> jpegs) => Build("no Content-Length", "multipart/x-mixed-replace; boundary=frame",
        "", jpegs, (_, _) => "--frame\r\nContent-Type: image/jpeg\r\n\r\n", "\r\n");

    /// <summary>Bare LF line ends, header names in lower case, Content-Length padded with spaces.</summary>
    public static RecordedStream BareLineFeeds(IReadOnlyList<byte[]> jpegs) => Build("bare LF", "multipart/x-mixed-replace;boundary=\"ipcam\"",
        "--ipcam\n", jpegs, (jpeg, _) => $"content-type: image/jpeg\ncontent-length:  {jpeg.Length} \n\n", "\n--ipcam\n");

    /// <summary>No boundary parameter at all: it has to be learned from the first delimiter line.</summary>
    public static RecordedStream UndeclaredBoundary(IReadOnlyList<byte[]> jpegs) => Build("undeclared boundary", "multipart/x-mixed-replace",
        "--SoMe.Boundary_42\r\n", jpegs, (_, _) => "Content-Type: image/jpeg\r\n\r\n", "\r\n--SoMe.Boundary_42\r\n");

    public static IEnumerable<Func<IReadOnlyList<byte[]>, RecordedStream>> AllStyles =>
        [UStreamer, MjpgStreamer, QuotedDashedBoundary, NoContentLength, BareLineFeeds, UndeclaredBoundary];

    private static RecordedStream Build(string name, string contentType, string preamble, IReadOnlyList<byte[]> jpegs,
        Func<byte[], int, string> header, string trailer)
    {
        var parts = jpegs.Select((jpeg, i) => (byte[])[.. Encoding.ASCII.GetBytes(header(jpeg, i)), .. jpeg, .. Encoding.ASCII.GetBytes(trailer)]).ToList();
        return new RecordedStream(name, contentType, Encoding.ASCII.GetBytes(preamble), parts, jpegs);
    }
}
