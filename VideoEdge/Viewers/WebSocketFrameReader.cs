using System.Buffers.Binary;
using System.Text.Unicode;

namespace VideoEdge.Viewers;

/// <summary>
/// Parses what a WebSocket viewer sends (RFC 6455 client frames: always masked) and checks it the way
/// a conforming server must: reserved bits, opcodes, control frame rules, fragmentation order, UTF-8
/// text, close payloads. Messages are capped; the cap is judged from the header, so an oversized
/// frame is refused before its payload arrives. No I/O: the caller feeds bytes and acts on results.
/// </summary>
public sealed class WebSocketFrameReader(int maxMessageBytes)
{
    public enum Result
    {
        /// <summary>The buffer does not hold a whole frame yet; nothing was consumed.</summary>
        NeedMore,
        /// <summary>A data frame that does not end its message.</summary>
        Fragment,
        /// <summary>A data frame that completes a message.</summary>
        Message,
        Ping,
        Pong,
        /// <summary>A valid close frame (payload empty, or a status code and UTF-8 reason).</summary>
        Close,
        /// <summary>The peer broke the protocol (bad framing, bad UTF-8, bad close payload): answer with close 1002 and drop it.</summary>
        ProtocolError,
        /// <summary>A message longer than the cap.</summary>
        TooBig,
    }

    // Viewers seldom send text; the room to check a message's UTF-8 as a whole is taken on the first.
    private byte[]? _text;
    private int _messageOpcode = -1;
    private int _messageBytes;

    /// <summary>
    /// Reads the first frame in <paramref name="buffer"/>, unmasking its payload in place.
    /// <paramref name="consumed"/> is its whole length (0 for NeedMore); <paramref name="payload"/> where its payload lies.
    /// </summary>
    public Result Read(Span<byte> buffer, out int consumed, out Range payload)
    {
        consumed = 0;
        payload = default;
        if (buffer.Length < 2)
        {
            return Result.NeedMore;
        }
        var fin = (buffer[0] & 0x80) != 0;
        var opcode = buffer[0] & 0x0F;
        var control = opcode >= WebSocketFramer.Close;
        if ((buffer[0] & 0x70) != 0 || (buffer[1] & 0x80) == 0
            || opcode is not (WebSocketFramer.Continuation or WebSocketFramer.Text or WebSocketFramer.Binary
                or WebSocketFramer.Close or WebSocketFramer.Ping or WebSocketFramer.Pong)
            || (control && (!fin || (buffer[1] & 0x7F) > 125))
            || (!control && (opcode == WebSocketFramer.Continuation) != (_messageOpcode >= 0)))
        {
            return Result.ProtocolError;
        }
        var header = 2;
        long length = buffer[1] & 0x7F;
        if (length == 126)
        {
            if (buffer.Length < 4)
            {
                return Result.NeedMore;
            }
            length = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
            header = 4;
        }
        else if (length == 127)
        {
            if (buffer.Length < 10)
            {
                return Result.NeedMore;
            }
            var declared = BinaryPrimitives.ReadUInt64BigEndian(buffer[2..]);
            if (declared > long.MaxValue)
            {
                return Result.ProtocolError;
            }
            length = (long)declared;
            header = 10;
        }
        if (!control && _messageBytes + length > maxMessageBytes)
        {
            return Result.TooBig;
        }
        var total = header + 4 + (int)length;
        if (buffer.Length < total)
        {
            return Result.NeedMore;
        }
        var mask = buffer.Slice(header, 4);
        var data = buffer.Slice(header + 4, (int)length);
        for (var i = 0; i < data.Length; i++)
        {
            data[i] ^= mask[i & 3];
        }
        consumed = total;
        payload = new Range(header + 4, total);
        return control ? Control(opcode, data) : Data(opcode, fin, data);
    }

    private Result Control(int opcode, ReadOnlySpan<byte> data)
    {
        if (opcode == WebSocketFramer.Ping)
        {
            return Result.Ping;
        }
        if (opcode == WebSocketFramer.Pong)
        {
            return Result.Pong;
        }
        if (data.Length == 0)
        {
            return Result.Close;
        }
        if (data.Length == 1)
        {
            return Result.ProtocolError;
        }
        var status = BinaryPrimitives.ReadUInt16BigEndian(data);
        var valid = status is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);
        return valid && Utf8.IsValid(data[2..]) ? Result.Close : Result.ProtocolError;
    }

    private Result Data(int opcode, bool fin, ReadOnlySpan<byte> data)
    {
        if (opcode != WebSocketFramer.Continuation)
        {
            _messageOpcode = opcode;
        }
        if (_messageOpcode == WebSocketFramer.Text)
        {
            _text ??= new byte[maxMessageBytes];
            data.CopyTo(_text.AsSpan(_messageBytes));
        }
        _messageBytes += data.Length;
        if (!fin)
        {
            return Result.Fragment;
        }
        var text = _messageOpcode == WebSocketFramer.Text;
        var length = _messageBytes;
        _messageOpcode = -1;
        _messageBytes = 0;
        return !text || Utf8.IsValid(_text.AsSpan(0, length)) ? Result.Message : Result.ProtocolError;
    }
}
