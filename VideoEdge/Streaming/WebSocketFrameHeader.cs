using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace VideoEdge.Streaming;

/// <summary>RFC 6455 framing for what the server sends: final, unmasked frames; the header is 2–10 bytes.</summary>
public static class WebSocketFrameHeader
{
    public const int Continuation = 0;
    public const int Text = 1;
    public const int Binary = 2;
    public const int Close = 8;
    public const int Ping = 9;
    public const int Pong = 10;

    public const int MaxLength = 10;

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

    /// <summary>Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2).</summary>
    public static string AcceptKey(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key.Trim() + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
}
