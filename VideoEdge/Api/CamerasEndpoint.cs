using VideoEdge.Cameras;

namespace VideoEdge.Api;

/// <summary>One camera as GET /api/cameras lists it; the viewer page's camera grid is built from this shape.</summary>
public sealed record CameraSummaryDto(string Name, string Kind, bool Online, string? OfflineReason, int Width, int Height, double Fps, int Viewers, string State, CameraSettingsDto Settings);

/// <summary>GET /api/cameras: every camera of this process, in the order they were configured.</summary>
public static class CamerasEndpoint
{
    private static readonly string[] GetHead = ["GET", "HEAD"];

    public static IEndpointRouteBuilder MapCamerasEndpoint(this IEndpointRouteBuilder app)
    {
        var cameras = app.ServiceProvider.GetRequiredService<CameraSet>();
        app.MapMethods("/api/cameras", GetHead, ctx =>
        {
            ctx.Response.Headers.CacheControl = "no-store";
            return ctx.Response.WriteAsJsonAsync(Build(cameras), EdgeJsonContext.Default.CameraSummaryDtoArray, contentType: null, ctx.RequestAborted);
        });
        return app;
    }

    public static CameraSummaryDto[] Build(CameraSet cameras) => [.. cameras.All.Select(Summarize)];

    private static CameraSummaryDto Summarize(Camera camera)
    {
        var source = camera.Source;
        var capture = camera.Capture;
        var (width, height) = camera.Transform?.OutputSize(source.Width, source.Height) ?? (source.Width, source.Height);
        return new CameraSummaryDto(camera.Name, source.Kind, capture.Online, capture.OfflineReason,
            width, height, camera.Stats.CaptureRate.PerSecond, camera.Hub.ViewerCount, StateEndpoint.StateName(capture.State),
            CameraSettingsDto.From(camera.Options));
    }
}
