using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Logging;
using VideoEdge.Api;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Viewers;

namespace VideoEdge.Remote;

/// <summary>
/// GET or CONNECT /cams/{name}/ingest (WebSocket over HTTP/1.1 or HTTP/2): a producer pushes one JPEG per binary message to a remote
/// camera. Each message is checked (JPEG markers, --max-frame-bytes); bad ones are dropped and
/// counted, and a producer that sends nothing but bad ones is closed. The server tells the producer
/// "pause" when nobody watches and "resume" when someone does, each time that changes.
/// </summary>
public static partial class IngestEndpoint
{
    public const string Pause = "pause";
    public const string Resume = "resume";

    /// <summary>This many bad messages in a row and the producer is closed.</summary>
    public const int MaxInvalidInARow = 10;

    /// <summary>/cams/{name}/ingest, which checks its own token rather than viewer credentials.</summary>
    public static bool IsIngestPath(PathString path) =>
        path.Value is { Length: > 13 } value && value.StartsWith("/cams/", StringComparison.Ordinal)
        && value.EndsWith("/ingest", StringComparison.Ordinal) && !value.AsSpan(6, value.Length - 13).Contains('/');

    public static IEndpointRouteBuilder MapIngestEndpoint(this IEndpointRouteBuilder app)
    {
        var cameras = app.ServiceProvider.GetRequiredService<CameraSet>();
        app.MapMethods("/cams/{name}/ingest", CameraRoutes.WebSocket, ctx => HandleAsync(ctx, cameras));
        return app;
    }

    private static async Task HandleAsync(HttpContext context, CameraSet cameras)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<EdgeOptions>();
        var name = context.Request.RouteValues["name"] as string ?? "";
        if (options.IngestToken is not { } token)
        {
            await ApiProblem.Create(StatusCodes.Status403Forbidden, "Ingest is off",
                "This server accepts no pushed frames; start it with --ingest-token and a --camera NAME=remote.").WriteAsync(context);
            return;
        }
        var refusals = services.GetRequiredService<Security.Refusals>();
        if (refusals.IsIngestLockedOut(context, out var retryAfter))
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await ApiProblem.Create(StatusCodes.Status429TooManyRequests, "Too many wrong tokens",
                "This address presented too many wrong ingest tokens; try again later.").WriteAsync(context);
            return;
        }
        if (!IngestToken.IsPresentedBy(context, token))
        {
            refusals.RecordIngestFailure(context);
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await ApiProblem.Create(StatusCodes.Status401Unauthorized, "Token required",
                "Present the ingest token as 'Authorization: Bearer TOKEN' (or ?token=TOKEN).").WriteAsync(context);
            return;
        }
        if (!cameras.TryGet(name, out var camera))
        {
            await ApiProblem.Create(StatusCodes.Status404NotFound, "Unknown camera",
                $"No camera is named '{name}'. Known cameras: {string.Join(", ", cameras.All.Select(c => c.Name))}.").WriteAsync(context);
            return;
        }
        if (camera.Source is not RemoteSource remote)
        {
            await ApiProblem.Create(StatusCodes.Status409Conflict, "Not a remote camera",
                $"Camera '{name}' captures from its own source; producers push to cameras started as --camera NAME=remote.").WriteAsync(context);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiProblem.BadRequest("WebSocket required", "Producers connect with a WebSocket (ws://…/cams/NAME/ingest) and send one JPEG per binary message.").WriteAsync(context);
            return;
        }
        var producer = ViewerRequest.Remote(context);
        if (!remote.Feed.TryAttach(producer, out var session, out var current))
        {
            await ApiProblem.Create(StatusCodes.Status409Conflict, "Camera has a producer",
                $"Camera '{name}' is already fed by {current}; a camera takes one producer at a time.").WriteAsync(context);
            return;
        }
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("VideoEdge.Ingest");
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        try
        {
            // Pings with a deadline find a producer that vanished without closing (power cut, lost
            // network), also while it is paused and sends nothing.
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                DangerousEnableCompression = false,
                KeepAliveInterval = TimeSpan.FromSeconds(5),
                KeepAliveTimeout = TimeSpan.FromSeconds(10),
            });
            LogConnected(logger, camera.Name, producer);
            var connection = new ProducerConnection(socket, camera, remote.Feed, options.MaxFrameBytes, logger);
            await connection.RunAsync(context.RequestAborted, stopping);
            LogDisconnected(logger, camera.Name, producer, connection.EndReason, connection.Accepted, connection.Rejected);
        }
        finally
        {
            remote.Feed.Detach(session);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: producer {Producer} connected")]
    private static partial void LogConnected(ILogger logger, string camera, string producer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: producer {Producer} gone ({Reason}) after {Accepted} frames ({Rejected} rejected)")]
    private static partial void LogDisconnected(ILogger logger, string camera, string producer, string reason, long accepted, long rejected);
}
