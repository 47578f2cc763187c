namespace VideoEdge.Frames;

/// <summary>
/// The receive window both stream parsers (the relay's multipart parser and the exec: source's JPEG
/// splitter) read into: unread bytes live in _buffer[_start.._end]; before a read, they are moved to the
/// front and the buffer grown (up to a cap) so that a whole read chunk fits behind them.
/// The caller reads into <see cref="GetWriteMemory"/>, reports the count with <see cref="Advance"/>
/// and then takes what the parser found; a span it returns is valid until the next GetWriteMemory.
/// </summary>
public abstract class ReceiveBuffer
{
    private const int InitialCapacity = 256 * 1024;
    private const int ReadChunk = 64 * 1024;

    private protected readonly int _capacity;
    private protected byte[] _buffer;
    private protected int _start;
    private protected int _end;

    /// <param name="maxItemBytes">The largest part or frame the parser keeps (checked positive).</param>
    /// <param name="overhead">Room needed beside one such item (e.g. its headers).</param>
    private protected ReceiveBuffer(int maxItemBytes, int overhead)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxItemBytes);
        _capacity = maxItemBytes + overhead + 2 * ReadChunk;
        _buffer = new byte[Math.Min(InitialCapacity, _capacity)];
    }

    /// <summary>Where the next bytes from the stream go; invalidates the last part or frame returned.</summary>
    public Memory<byte> GetWriteMemory()
    {
        if (_buffer.Length - _end < ReadChunk)
        {
            if (_start > 0)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                Moved(_start);
                _start = 0;
            }
            if (_buffer.Length - _end < ReadChunk && _buffer.Length < _capacity)
            {
                Array.Resize(ref _buffer, Math.Min(_capacity, Math.Max(_buffer.Length * 2, _end + ReadChunk)));
            }
        }
        return _buffer.AsMemory(_end);
    }

    /// <summary>Records <paramref name="count"/> bytes read into the memory <see cref="GetWriteMemory"/> gave.</summary>
    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _end);
        _end += count;
    }

    /// <summary>The unread bytes moved this far toward the front: a parser's own offsets into them shift by that.</summary>
    private protected virtual void Moved(int distance)
    {
    }
}
