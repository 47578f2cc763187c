namespace VideoEdge.Frames;

/// <summary>
/// The receive window both stream parsers (the relay's multipart parser and the exec: source's JPEG
/// splitter) read into: unread bytes live in buffer[start..end]; before a read, they are moved to the
/// front and the buffer grown (up to a cap) so that a whole read chunk fits behind them.
/// </summary>
internal static class ReceiveBuffer
{
    public const int InitialCapacity = 256 * 1024;
    public const int ReadChunk = 64 * 1024;

    /// <summary>Makes room for the next read; returns how far the unread bytes moved toward the front (offsets into them shift by that).</summary>
    public static int MakeRoom(ref byte[] buffer, ref int start, ref int end, int capacity)
    {
        var moved = 0;
        if (buffer.Length - end < ReadChunk)
        {
            if (start > 0)
            {
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
                moved = start;
                start = 0;
            }
            if (buffer.Length - end < ReadChunk && buffer.Length < capacity)
            {
                Array.Resize(ref buffer, Math.Min(capacity, Math.Max(buffer.Length * 2, end + ReadChunk)));
            }
        }
        return moved;
    }

    /// <summary>Records <paramref name="count"/> bytes read into the memory <see cref="MakeRoom"/> left behind <paramref name="end"/>.</summary>
    public static void Advance(byte[] buffer, ref int end, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, buffer.Length - end);
        end += count;
    }
}
