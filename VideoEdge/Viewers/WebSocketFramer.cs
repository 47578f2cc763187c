using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;
using VideoEdge.Frames;

namespace VideoEdge.Viewers;

/// <summary>
/// RFC 6455 framing for what the server sends: final, unmasked frames; the header is 2–10 bytes.
/// One binary message per frame; with <paramref name="meta"/> a small JSON text message (sequence,
/// capture time, size) precedes each, for pages that show frame age.
/// </summary>
public sealed class WebSocketFramer : IFramer
{
    private readonly bool _meta;

    private WebSocketFramer(bool meta) => _meta = meta;

    /// <summary>One framer per kind, so the hub can tell which framing most of its viewers share.</summary>
    public static WebSocketFramer For(bool meta) => meta ? s_withMeta : s_plain;

    private static readonly WebSocketFramer s_plain = new(false);
    private static readonly WebSocketFramer s_withMeta = new(true);

    public const int Continuation = 0;
    public const int Text = 1;
    public const int Binary = 2;
    public const int Close = 8;
    public const int Ping = 9;
    public const int Pong = 10;

    public const int MaxLength = 10;

    private const int MaxMetaBytes = 160;

    // Text frame header + meta JSON + binary frame header.
    public int MaxHeadBytes => 2 * MaxLength + MaxMetaBytes;

    public ReadOnlyMemory<byte> Tail => ReadOnlyMemory<byte>.Empty;

    public int WriteHead(Frame frame, Span<byte> destination)
    {
        var n = 0;
        if (_meta)
        {
            var json = FormatMeta(frame, destination[MaxLength..]);
            var header = Write(destination, Text, json);
            // The header is shorter than the room left for it: slide the JSON down behind it.
            destination.Slice(MaxLength, json).CopyTo(destination[header..]);
            n = header + json;
        }
        return n + Write(destination[n..], Binary, frame.Length);
    }

    /// <summary>Writes the header of a final frame carrying <paramref name="payloadLength"/> bytes; returns its length.</summary>
    public static int Write(Span<byte> destination, int opcode, long payloadLength)
    {
        destination[0] = (byte)(0x80 | opcode);
        if (payloadLength < 126)
        {
            destination[1] = (byte)payloadLength;
            return 2;
        }
        if (payloadLength <= ushort.MaxValue)
        {
            destination[1] = 126;
            BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)payloadLength);
            return 4;
        }
        destination[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(destination[2..], (ulong)payloadLength);
        return 10;
    }

    /// <summary>A whole close frame (status code and reason, which must be ASCII and short); returns its length.</summary>
    public static int WriteClose(Span<byte> destination, int status, string reason)
    {
        var n = Write(destination, Close, 2 + reason.Length);
        BinaryPrimitives.WriteUInt16BigEndian(destination[n..], (ushort)status);
        return n + 2 + Encoding.ASCII.GetBytes(reason, destination[(n + 2)..]);
    }

    internal static int FormatMeta(Frame frame, Span<byte> destination)
    {
        var n = MjpegFramer.Copy("{\"seq\":"u8, destination);
        Utf8Formatter.TryFormat(frame.Sequence, destination[n..], out var w);
        n += w;
        n += MjpegFramer.Copy(",\"ts\":"u8, destination[n..]);
        n += MjpegFramer.FormatSeconds(frame.TimestampMicros, destination[n..]);
        n += MjpegFramer.Copy(",\"width\":"u8, destination[n..]);
        Utf8Formatter.TryFormat(frame.Width, destination[n..], out w);
        n += w;
        n += MjpegFramer.Copy(",\"height\":"u8, destination[n..]);
        Utf8Formatter.TryFormat(frame.Height, destination[n..], out w);
        n += w;
        n += MjpegFramer.Copy(",\"bytes\":"u8, destination[n..]);
        Utf8Formatter.TryFormat(frame.Length, destination[n..], out w);
        n += w;
        n += MjpegFramer.Copy(frame.IsNoSignal ? ",\"noSignal\":true}"u8 : ",\"noSignal\":false}"u8, destination[n..]);
        return n;
    }
}
