using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Viewers;

namespace VideoEdge.Api;

/// <summary>
/// GET /snapshot.jpg: the latest frame; with ?fresh=1 the next one captured after the request
/// arrived. Waits are bounded by --snapshot-timeout and answered with 503 and the reason.
/// </summary>
public static class SnapshotEndpoint
{
    public static async Task HandleAsync(HttpContext context, Camera camera)
    {
        if (!ViewerRequest.TryReadFlag(context, "fresh", out var fresh, out var problem))
        {
            await problem!.WriteAsync(context);
            return;
        }
        var hub = camera.Hub;
        hub.RequestFrame();
        var lease = fresh ? default : AcquireCurrent(camera);
        if (!lease.HasFrame)
        {
            try
            {
                lease = await hub.NextAfterAsync(hub.LatestSequence, camera.Options.SnapshotTimeout, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
        if (!lease.HasFrame)
        {
            var reason = camera.Capture.OfflineReason ?? "no frame was captured in time";
            context.Response.Headers.RetryAfter = "1";
            await ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "No frame available",
                $"Camera '{camera.Name}' has no frame to give: {reason}.").WriteAsync(context);
            return;
        }
        using var _ = lease;
        var frame = lease.Frame;
        try
        {
            var response = context.Response;
            response.ContentType = "image/jpeg";
            response.ContentLength = frame.Length;
            ViewerRequest.NoStore(response);
            Span<byte> stamp = stackalloc byte[32];
            var n = MjpegFramer.FormatSeconds(frame.TimestampMicros, stamp);
            response.Headers["X-Timestamp"] = System.Text.Encoding.ASCII.GetString(stamp[..n]);
            response.Headers["X-Frame-Sequence"] = frame.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                // The same send deadline as streams: a client that stops reading must not pin a frame for long.
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
                deadline.CancelAfter(camera.Options.SendTimeout);
                try
                {
                    await response.Body.WriteAsync(frame.Memory, deadline.Token);
                    camera.Stats.CountSent(frame.Length, 0);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
                {
                    context.Abort();
                }
            }
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
        }
    }

    /// <summary>The latest frame, unless the encoder idled (--slowdown) or the producer paused and it is stale.</summary>
    private static FrameLease AcquireCurrent(Camera camera)
    {
        var lease = camera.Hub.AcquireLatest();
        if (!lease.HasFrame)
        {
            return lease;
        }
        var frame = lease.Frame;
        var ageMicros = Clock.UnixMicrosNow() - frame.TimestampMicros;
        // Idle encoders (--slowdown) and paused producers leave an old frame behind: a picture over a
        // second old, or the no-signal picture of a camera that is online again (a producer that
        // connected and was paused at once has sent nothing yet).
        if ((camera.Options.Slowdown || camera.Source.PausesWhenUnwatched)
            && (frame.IsNoSignal ? camera.Capture.Online : ageMicros > 1_000_000))
        {
            lease.Dispose();
            return default;
        }
        return lease;
    }
}
