namespace VideoEdge.Bench.Load;

/// <summary>Server-to-client WebSocket frames after a 101 response: one binary message = one JPEG.</summary>
internal sealed class WebSocketParser(IFrameSink sink) : StreamParser(sink)
{
    private bool _upgraded;
    private int _ignoreRemaining;

    public override int Skippable => _ignoreRemaining > 0 ? _ignoreRemaining : BodySkippable;

    public override void Skip(int count)
    {
        if (_ignoreRemaining > 0)
        {
            _ignoreRemaining -= count;
            return;
        }
        SkipBody(count);
    }

    public override int Consume(ReadOnlySpan<byte> data)
    {
        var used = 0;
        if (!_upgraded)
        {
            var end = data.IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                return 0;
            }
            if (!data.StartsWith("HTTP/1.1 101"u8))
            {
                Error = "unexpected response: " + Printable(data[..end]);
                return 0;
            }
            _upgraded = true;
            used = end + 4;
        }
        while (used < data.Length && Error is null)
        {
            var rest = data[used..];
            if (_ignoreRemaining > 0)
            {
                var n = Math.Min(rest.Length, _ignoreRemaining);
                _ignoreRemaining -= n;
                used += n;
                continue;
            }
            if (InBody)
            {
                used += FeedBody(rest);
                continue;
            }
            if (rest.Length < 2)
            {
                return used;
            }
            var opcode = rest[0] & 0x0F;
            long length = rest[1] & 0x7F;
            var header = 2;
            if (length == 126)
            {
                if (rest.Length < 4)
                {
                    return used;
                }
                length = rest[2] << 8 | rest[3];
                header = 4;
            }
            else if (length == 127)
            {
                if (rest.Length < 10)
                {
                    return used;
                }
                length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(rest[2..]);
                header = 10;
            }
            used += header;
            if (opcode == 0x8)
            {
                Error = "the server closed the WebSocket";
                return used;
            }
            if (opcode == 0x2)
            {
                BeginBody((int)length, 0, -1);
            }
            else
            {
                _ignoreRemaining = (int)length;
            }
        }
        return used;
    }
}
