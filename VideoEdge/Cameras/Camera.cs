using Microsoft.Extensions.Logging;
using VideoEdge.Configuration;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Sources;

namespace VideoEdge.Cameras;

/// <summary>One named camera: its source on a capture thread, its frame pool, and the hub its viewers watch.</summary>
public sealed class Camera : IDisposable
{
    public Camera(string name, string source, EdgeOptions options, ILoggerFactory loggerFactory)
    {
        Name = name;
        Options = options;
        var context = new CaptureContext(name, options, Pool, Hub, Stats, loggerFactory);
        Source = SourceFactory.Create(source, context);
        Capture = new CaptureLoop(Source, context);
    }

    public string Name { get; }
    public EdgeOptions Options { get; }
    public FramePool Pool { get; } = new();
    public FrameHub Hub { get; } = new();
    public CameraStats Stats { get; } = new();
    public IFrameSource Source { get; }
    public CaptureLoop Capture { get; }

    public void Start() => Capture.Start();

    public void Dispose()
    {
        Capture.Dispose();
        Hub.Dispose();
    }
}
