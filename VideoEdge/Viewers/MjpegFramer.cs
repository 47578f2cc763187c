using System.Buffers;
using System.Buffers.Text;
using System.Text;
using VideoEdge.Frames;

namespace VideoEdge.Viewers;

/// <summary>
/// multipart/x-mixed-replace framing. Each part ends with the next boundary already written:
/// Chromium shows a part only once it sees the boundary after it, so sending the boundary late makes
/// it display every frame one frame late.
/// </summary>
public sealed class MjpegFramer : IFramer
{
    public const string Boundary = "videoedgeframe";
    public const string ContentType = "multipart/x-mixed-replace;boundary=" + Boundary;

    private static readonly byte[] s_preamble = Encoding.ASCII.GetBytes("--" + Boundary + "\r\n");
    private static readonly byte[] s_partTail = Encoding.ASCII.GetBytes("\r\n--" + Boundary + "\r\n");

    public static MjpegFramer Instance { get; } = new();

    /// <summary>Written once, right after the response headers.</summary>
    public static ReadOnlyMemory<byte> Preamble => s_preamble;

    public const int MaxHeaderBytes = 160;

    public int MaxHeadBytes => MaxHeaderBytes;

    public ReadOnlyMemory<byte> Tail => s_partTail;

    public int WriteHead(Frame frame, Span<byte> destination) => WritePartHeader(destination, frame.Length, frame.TimestampMicros, frame.Sequence);

    /// <summary>
    /// Formats the part headers into <paramref name="destination"/>; returns the byte count.
    /// X-Frame-Sequence lets a viewer see exactly which frames it skipped.
    /// </summary>
    public static int WritePartHeader(Span<byte> destination, int length, long timestampMicros, long sequence)
    {
        var n = Copy("Content-Type: image/jpeg\r\nContent-Length: "u8, destination);
        Utf8Formatter.TryFormat(length, destination[n..], out var w);
        n += w;
        n += Copy("\r\nX-Timestamp: "u8, destination[n..]);
        n += FormatSeconds(timestampMicros, destination[n..]);
        n += Copy("\r\nX-Frame-Sequence: "u8, destination[n..]);
        Utf8Formatter.TryFormat(sequence, destination[n..], out w);
        n += w;
        n += Copy("\r\n\r\n"u8, destination[n..]);
        return n;
    }

    /// <summary>Seconds since the epoch with six decimals, as µStreamer's X-Timestamp.</summary>
    public static int FormatSeconds(long micros, Span<byte> destination)
    {
        var seconds = micros / 1_000_000;
        var fraction = micros % 1_000_000;
        Utf8Formatter.TryFormat(seconds, destination, out var n);
        destination[n++] = (byte)'.';
        Utf8Formatter.TryFormat(fraction, destination[n..], out var f, new StandardFormat('D', 6));
        return n + f;
    }

    internal static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}
