using Microsoft.Extensions.Logging;
using VideoEdge.Configuration;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Imaging;
using VideoEdge.Sources;
using VideoEdge.Variants;

namespace VideoEdge.Cameras;

/// <summary>One named camera: its source on a capture thread, its frame pool, and the hub its viewers watch.</summary>
public sealed class Camera : IDisposable
{
    public Camera(string name, SourceSpec source, EdgeOptions options, ILoggerFactory loggerFactory)
    {
        Name = name;
        Options = options;
        Pool = new();
        Hub = new();
        Stats = new();
        var context = new CaptureContext(name, options, Pool, Hub, Stats, loggerFactory);
        Source = SourceFactory.Create(source, context);
        Transform = FrameTransform.For(name, options);
        Capture = new CaptureLoop(Transform is null ? Source : new TransformedSource(Source, Transform, context), context);
        Variants = new VariantSet(this, loggerFactory);
    }

    /// <summary>
    /// A variant's view of <paramref name="camera"/> (issue 14): the same source, options, pool and
    /// counters, but its viewers watch <paramref name="hub"/>. Endpoints serve a variant unchanged.
    /// </summary>
    internal Camera(Camera camera, FrameHub hub)
    {
        Name = camera.Name;
        Options = camera.Options;
        Pool = camera.Pool;
        Hub = hub;
        Stats = camera.Stats;
        Source = camera.Source;
        Transform = camera.Transform;
        Capture = camera.Capture;
        Variants = camera.Variants;
        IsVariantView = true;
    }

    public string Name { get; }
    public EdgeOptions Options { get; }
    public FramePool Pool { get; }
    public FrameHub Hub { get; }
    public CameraStats Stats { get; }
    public IFrameSource Source { get; }

    /// <summary>--overlay/--rotate/--flip/--scale, when asked for: applied to every frame of <see cref="Source"/>.</summary>
    public FrameTransform? Transform { get; }
    public CaptureLoop Capture { get; }

    /// <summary>The ?width=/?quality= variants viewers use now.</summary>
    public VariantSet Variants { get; }

    /// <summary>True for a variant's view: it owns nothing, the camera it came from does.</summary>
    public bool IsVariantView { get; }

    public void Start() => Capture.Start();

    public void Dispose()
    {
        if (IsVariantView)
        {
            return;
        }
        // Bounded: a variant stops within one encode.
        Variants.StopAllAsync().Wait(TimeSpan.FromSeconds(5));
        Capture.Dispose();
        Hub.Dispose();
    }
}
