using System.Globalization;
using VideoEdge.Cameras;
using VideoEdge.Security;
using VideoEdge.Variants;
using VideoEdge.Viewers;
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

        // mjpg-streamer's URLs, which many home-automation tools still use; /cams/NAME/ itself opens
        // the viewer page on that camera. The redirect is relative, so it also works behind a proxy
        // that serves VideoEdge under a sub-path, and keeps the query (a ?token= for the page).
        app.MapMethods("/", GetHead, ctx => MjpgStreamerAction(ctx, cameras.Default, cameras, ViewerPage.HandleAsync));
        // (Routing ignores a trailing slash: this answers /cams/NAME and /cams/NAME/ alike.)
        app.MapMethods("/cams/{name}", GetHead, ctx => cameras.TryGet(ctx.Request.RouteValues["name"] as string ?? "", out var camera)
            ? MjpgStreamerAction(ctx, camera, null, c => RedirectToViewer(c, camera))
            : UnknownCamera(ctx, cameras));
        return app;
    }

    private static void Map(IEndpointRouteBuilder app, string prefix, Func<HttpContext, Camera?> resolve)
    {
        var cameras = app.ServiceProvider.GetRequiredService<CameraSet>();
        void Add(string path, CameraHandler handler, string[]? methods = null) => app.MapMethods(prefix + path, methods ?? GetHead, ctx =>
        {
            var camera = resolve(ctx);
            return camera is null ? UnknownCamera(ctx, cameras) : handler(ctx, camera);
        });

        // Issue 14 seam: ?width=/?quality= hand the endpoint a variant's view of the camera (its own hub).
        Add("/stream.mjpg", new(VariantRoutes.Serve(MjpegEndpoint.HandleAsync, snapshot: false)));
        Add("/ws", new(VariantRoutes.Serve(WebSocketEndpoint.HandleAsync, snapshot: false)), WebSocket);
        Add("/snapshot.jpg", new(VariantRoutes.Serve(SnapshotEndpoint.HandleAsync, snapshot: true)));
        Add(prefix.Length == 0 ? "/api/state" : "/state", StateEndpoint.HandleAsync);
        Add(prefix.Length == 0 ? "/api/camera/controls" : "/controls", CameraControlsEndpoint.ListAsync);
        Add(prefix.Length == 0 ? "/api/camera/controls/{control}" : "/controls/{control}", CameraControlsEndpoint.SetAsync, Put);
    }

    private static Task UnknownCamera(HttpContext ctx, CameraSet cameras) =>
        ApiProblem.Create(StatusCodes.Status404NotFound, "Unknown camera",
            $"No camera is named '{ctx.Request.RouteValues["name"]}'. Known cameras: {string.Join(", ", cameras.All.Select(c => c.Name))}.").WriteAsync(ctx);

    /// <summary>
    /// ?action=stream and ?action=snapshot; with <paramref name="inputs"/> also mjpg-streamer's
    /// multi-input stream_N and snapshot_N, N being the 0-based input: here the camera in
    /// configuration order (the first --source or --camera is 0). No action: <paramref name="none"/>.
    /// </summary>
    private static Task MjpgStreamerAction(HttpContext ctx, Camera camera, CameraSet? inputs, RequestDelegate none)
    {
        var action = ctx.Request.Query["action"].ToString();
        var underscore = action.IndexOf('_');
        if (inputs is not null && underscore > 0
            && int.TryParse(action.AsSpan(underscore + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var input))
        {
            if (input >= inputs.All.Count)
            {
                return ApiProblem.Create(StatusCodes.Status404NotFound, "Unknown input",
                    $"'?action={LogText.Safe(action)}': there is no input {input}. Inputs: {string.Join(", ", inputs.All.Select((c, i) => $"{i} = {c.Name}"))}.").WriteAsync(ctx);
            }
            camera = inputs.All[input];
            action = action[..underscore];
        }
        return action switch
        {
            "stream" => MjpegEndpoint.HandleAsync(ctx, camera),
            "snapshot" => SnapshotEndpoint.HandleAsync(ctx, camera),
            "" => none(ctx),
            var other => ApiProblem.BadRequest("Unknown action",
                $"'?action={LogText.Safe(other)}' is not known; use stream or snapshot{(inputs is null ? "" : ", or stream_N / snapshot_N for camera N (0-based, in configuration order)")}.").WriteAsync(ctx),
        };
    }

    /// <summary>/cams/NAME/ opens the viewer page on that camera.</summary>
    private static Task RedirectToViewer(HttpContext ctx, Camera camera)
    {
        var up = ctx.Request.Path.Value!.EndsWith('/') ? "../../" : "../";
        ctx.Response.Redirect(up + ctx.Request.QueryString.Value + "#camera=" + Uri.EscapeDataString(camera.Name));
        return Task.CompletedTask;
    }
}
