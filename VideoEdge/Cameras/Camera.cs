using Microsoft.Extensions.Logging;
using VideoEdge.Configuration;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Imaging;
using VideoEdge.Sources;

namespace VideoEdge.Cameras;

/// <summary>One named camera: its source on a capture thread, its frame pool, and the hub its viewers watch.</summary>
public sealed class Camera : IDisposable
{
    public Camera(string name, SourceSpec source, EdgeOptions options, ILoggerFactory loggerFactory)
    {
        Name = name;
        Options = options;
        var context = new CaptureContext(name, options, Pool, Hub, Stats, loggerFactory);
        Source = SourceFactory.Create(source, context);
        Transform = FrameTransform.For(name, options);
        Capture = new CaptureLoop(Transform is null ? Source : new TransformedSource(Source, Transform, context), context);
    }

    public string Name { get; }
    public EdgeOptions Options { get; }
    public FramePool Pool { get; } = new();
    public FrameHub Hub { get; } = new();
    public CameraStats Stats { get; } = new();
    public IFrameSource Source { get; }

    /// <summary>--overlay/--rotate/--flip/--scale, when asked for: applied to every frame of <see cref="Source"/>.</summary>
    public FrameTransform? Transform { get; }
    public CaptureLoop Capture { get; }

    public void Start() => Capture.Start();

    public void Dispose()
    {
        Capture.Dispose();
        Hub.Dispose();
    }
}
