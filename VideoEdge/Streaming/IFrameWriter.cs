using VideoEdge.Frames;

namespace VideoEdge.Streaming;

/// <summary>Puts one frame on one viewer's connection (MJPEG part or WebSocket message).</summary>
public interface IFrameWriter
{
    /// <summary>Completes when the frame has been handed to the transport and flushed.</summary>
    ValueTask WriteAsync(Frame frame, CancellationToken cancellation);
}
