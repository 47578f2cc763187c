using VideoEdge.Frames;

namespace VideoEdge.Sources;

/// <summary>
/// The frames of a camera fed by a producer elsewhere (the ingest WebSocket, the NATS bus): the
/// camera's size is whatever the producer's last frame had. Stamps each received frame with its size,
/// remembers that size for Width/Height (read by other threads), and counts the frame as captured
/// and passed through (the producer encoded it; we only pass it on).
/// </summary>
public sealed class ReceivedFrames(CaptureContext context)
{
    private int _width = context.Options.Width;
    private int _height = context.Options.Height;

    /// <summary>The last received frame's width; the configured one before the first.</summary>
    public int Width => Volatile.Read(ref _width);

    /// <summary>The last received frame's height; the configured one before the first.</summary>
    public int Height => Volatile.Read(ref _height);

    /// <summary>Takes in a checked JPEG of the given size, received into <paramref name="frame"/>.</summary>
    public void Accept(Frame frame, int width, int height)
    {
        frame.Width = width;
        frame.Height = height;
        Volatile.Write(ref _width, width);
        Volatile.Write(ref _height, height);
        context.Stats.CountCaptured();
        context.Stats.CountPassthrough();
    }
}
