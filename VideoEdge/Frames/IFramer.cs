namespace VideoEdge.Frames;

/// <summary>
/// A transport's framing around one frame, as pure functions: the bytes before the frame's own
/// buffer and the bytes after it. The frame itself is never copied; a sink sends head, frame, tail.
/// (Here, not with the viewers: a hub's <see cref="FrameFile"/> writes one framing around each copy.)
/// </summary>
public interface IFramer
{
    /// <summary>Upper bound of <see cref="WriteHead"/>'s output.</summary>
    int MaxHeadBytes { get; }

    /// <summary>Formats what precedes <paramref name="frame"/> into <paramref name="destination"/>; returns the byte count.</summary>
    int WriteHead(Frame frame, Span<byte> destination);

    /// <summary>What follows every frame.</summary>
    ReadOnlyMemory<byte> Tail { get; }
}

/// <summary>The frame alone, for a sink that frames messages itself (a client WebSocket).</summary>
public sealed class BareFramer : IFramer
{
    public static BareFramer Instance { get; } = new();

    public int MaxHeadBytes => 0;

    public int WriteHead(Frame frame, Span<byte> destination) => 0;

    public ReadOnlyMemory<byte> Tail => ReadOnlyMemory<byte>.Empty;
}
