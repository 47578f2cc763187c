using VideoEdge.Cameras;
using VideoEdge.Streaming;
using VideoEdge.Web;

namespace VideoEdge.Api;

/// <summary>
/// Every per-camera endpoint, once at the top level for the first camera and once under
/// /cams/{name}/ for each camera. Handlers are plain RequestDelegates (no parameter binding, so
/// nothing for the trimmer to miss).
/// </summary>
public static class CameraRoutes
{
    private static readonly string[] GetHead = ["GET", "HEAD"];
    private static readonly string[] Put = ["PUT"];
    // WebSocket over HTTP/2 (RFC 8441) opens with an extended CONNECT instead of a GET upgrade.
    public static readonly string[] WebSocket = ["GET", "HEAD", "CONNECT"];

    private delegate Task CameraHandler(HttpContext context, Camera camera);

    public static IEndpointRouteBuilder MapCameraEndpoints(this IEndpointRouteBuilder app)
    {
        var cameras = app.ServiceProvider.GetRequiredService<CameraSet>();
        Map(app, "", _ => cameras.Default);
        Map(app, "/cams/{name}", ctx => cameras.TryGet(ctx.Request.RouteValues["name"] as string ?? "", out var c) ? c : null);

        // mjpg-streamer's URLs, which many home-automation tools still use.
        app.MapMethods("/", GetHead, ctx => (ctx.Request.Query["action"].ToString()) switch
        {
            "stream" => MjpegEndpoint.HandleAsync(ctx, cameras.Default),
            "snapshot" => SnapshotEndpoint.HandleAsync(ctx, cameras.Default),
            "" => ViewerPage.HandleAsync(ctx),
            var other => ApiProblem.BadRequest("Unknown action", $"'?action={other}' is not known; use stream or snapshot.").WriteAsync(ctx),
        });
        return app;
    }

    private static void Map(IEndpointRouteBuilder app, string prefix, Func<HttpContext, Camera?> resolve)
    {
        var cameras = app.ServiceProvider.GetRequiredService<CameraSet>();
        void Add(string path, CameraHandler handler, string[]? methods = null) => app.MapMethods(prefix + path, methods ?? GetHead, ctx =>
        {
            var camera = resolve(ctx);
            return camera is null
                ? ApiProblem.Create(StatusCodes.Status404NotFound, "Unknown camera",
                    $"No camera is named '{ctx.Request.RouteValues["name"]}'. Known cameras: {string.Join(", ", cameras.All.Select(c => c.Name))}.").WriteAsync(ctx)
                : handler(ctx, camera);
        });

        Add("/stream.mjpg", MjpegEndpoint.HandleAsync);
        Add("/ws", WebSocketEndpoint.HandleAsync, WebSocket);
        Add("/snapshot.jpg", SnapshotEndpoint.HandleAsync);
        Add(prefix.Length == 0 ? "/api/state" : "/state", StateEndpoint.HandleAsync);
        Add(prefix.Length == 0 ? "/api/camera/controls" : "/controls", CameraControlsEndpoint.ListAsync);
        Add(prefix.Length == 0 ? "/api/camera/controls/{control}" : "/controls/{control}", CameraControlsEndpoint.SetAsync, Put);
    }
}
