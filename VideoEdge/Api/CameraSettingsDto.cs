using VideoEdge.Configuration;

namespace VideoEdge.Api;

/// <summary>A camera's effective per-camera settings (its own, else the global ones), as /api/cameras and /api/state show them.</summary>
public sealed record CameraSettingsDto(
    string Resolution, double Fps, int Quality, string Format, int Buffers, int DropSameFrames, bool Slowdown, double OnDemand,
    double SnapshotTimeout, int Rotate, string Flip, double Scale, string? Overlay)
{
    public static CameraSettingsDto From(EdgeOptions o) => new(
        $"{o.Width}x{o.Height}", o.Fps, o.Quality, o.CaptureFormat, o.CaptureBuffers, o.DropSameFrames, o.Slowdown, o.OnDemand.TotalSeconds,
        o.SnapshotTimeout.TotalSeconds, o.Rotate, (o.FlipHorizontal ? "h" : "") + (o.FlipVertical ? "v" : "") is { Length: > 0 } flip ? flip : "none", o.Scale, o.Overlay);
}
