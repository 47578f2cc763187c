using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Frames;
using VideoEdge.Hub;

namespace VideoEdge.Sources;

/// <summary>What a source needs from its camera: where to rent frames, whether anyone watches, what to count.</summary>
public sealed record CaptureContext(string CameraName, EdgeOptions Options, FramePool Pool, FrameHub Hub, CameraStats Stats, ILoggerFactory LoggerFactory)
{
    /// <summary>False while --slowdown is on and nobody watches: capture, but skip the encode.</summary>
    public bool ShouldEncode => !Options.Slowdown || Hub.HasDemand;
}
