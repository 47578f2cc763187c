using System.Globalization;
using System.Text;
using VideoEdge.Cameras;

namespace VideoEdge.Api;

/// <summary>
/// GET /healthz for probes: 200 while every camera's capture loop makes progress (frames flow, or
/// the no-signal picture is being shown while the source is retried), 503 when one has stalled.
/// One line per camera says which state it is in; with authentication on, only to a client that
/// presents credentials (probes need none, and the lines name sources and their faults).
/// </summary>
public static class HealthEndpoint
{
    /// <summary>Progress older than this (or than three frame intervals of a slower source) means stalled.</summary>
    private const long StallMilliseconds = 5000;

    public static Task HandleAsync(HttpContext context)
    {
        var cameras = context.RequestServices.GetRequiredService<CameraSet>();
        var healthy = true;
        var text = new StringBuilder();
        var now = Environment.TickCount64;
        foreach (var camera in cameras.All)
        {
            var quiet = now - camera.Stats.LastProgress;
            var fps = camera.Source.Fps > 0 ? camera.Source.Fps : camera.Options.Fps;
            var limit = Math.Max(StallMilliseconds, (long)(3000 / fps));
            var seconds = (quiet / 1000.0).ToString("0.0", CultureInfo.InvariantCulture);
            text.Append(camera.Name).Append(": ");
            if (quiet > limit)
            {
                healthy = false;
                text.Append("stalled: nothing captured for ").Append(seconds).Append(" s");
            }
            else if (camera.Capture.State == Sources.CaptureState.Idle)
            {
                text.Append("idle (switched off on demand until someone watches)");
            }
            else if (camera.Capture.Online)
            {
                text.Append("streaming");
            }
            else
            {
                text.Append("no signal (").Append(camera.Capture.OfflineReason).Append("); showing the no-signal picture and retrying");
            }
            text.Append('\n');
        }
        var credentials = context.RequestServices.GetRequiredService<Security.Credentials>();
        var details = !credentials.Enabled || credentials.Check(context.Request) == Security.Credentials.Outcome.Accepted;
        var body = Encoding.UTF8.GetBytes((healthy ? "ok\n" : "unhealthy\n") + (details ? text.ToString() : ""));
        var response = context.Response;
        response.StatusCode = healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = body.Length;
        response.Headers.CacheControl = "no-store";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
