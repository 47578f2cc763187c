using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using VideoEdge.Api;
using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Hub;

namespace VideoEdge.Streaming;

/// <summary>GET /stream.mjpg: one multipart HTTP response per viewer, a part per frame.</summary>
public static class MjpegEndpoint
{
    public static async Task HandleAsync(HttpContext context, Camera camera)
    {
        if (!ViewerRequest.TryReadFps(context, out var fps, out var problem))
        {
            await problem!.WriteAsync(context);
            return;
        }
        var response = context.Response;
        response.ContentType = MjpegWriter.ContentType;
        ViewerRequest.NoStore(response);
        // Tell nginx-style proxies not to buffer a live stream.
        response.Headers["X-Accel-Buffering"] = "no";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        var services = context.RequestServices;
        using var admitted = await services.GetRequiredService<ViewerAdmission>().AdmitAsync(context);
        if (admitted is null)
        {
            return;
        }
        var options = camera.Options;
        ViewerRequest.LimitSendBuffer(context, options.SendBufferBytes);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("VideoEdge.Viewers");
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);

        var writer = await StartAsync(context, cancellation.Token);
        if (writer is null)
        {
            return;
        }
        var client = new ViewerCounters("mjpeg", ViewerRequest.Remote(context));
        var end = await ViewerLoop.RunAsync(camera, client, writer, fps, options.SendTimeout, logger, cancellation.Token);
        if (writer is DirectMjpegStream.PartWriter direct && end != ViewerLoop.EndReason.SendTimeout)
        {
            direct.Finish();
        }
        // A direct stream's response is ours, not Kestrel's: the connection must not be reused.
        if (end == ViewerLoop.EndReason.SendTimeout || writer is DirectMjpegStream.PartWriter)
        {
            context.Abort();
        }
    }

    /// <summary>Sends the response head; null when the viewer is already gone.</summary>
    private static async Task<IFrameWriter?> StartAsync(HttpContext context, CancellationToken cancellation)
    {
        var direct = DirectSocketSender.TryCreate(context);
        try
        {
            if (direct is not null)
            {
                await DirectMjpegStream.StartAsync(direct, context.Response, cancellation);
                return new DirectMjpegStream.PartWriter(direct);
            }
            var body = context.Response.BodyWriter;
            await context.Response.StartAsync(cancellation);
            body.Write(MjpegWriter.Preamble);
            await body.FlushAsync(cancellation);
            return new PartWriter(body);
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            if (direct is not null)
            {
                context.Abort();
            }
            return null;
        }
    }

    private sealed class PartWriter(PipeWriter body) : IFrameWriter
    {
        // Pooled builder: a flush that has to wait would otherwise allocate a state machine per frame.
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask WriteAsync(Frame frame, CancellationToken cancellation)
        {
            MjpegWriter.WritePart(body, frame);
            var result = await body.FlushAsync(cancellation);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellation);
            }
            if (result.IsCompleted)
            {
                throw new IOException("the viewer closed the connection");
            }
        }
    }
}
