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

        var body = response.BodyWriter;
        try
        {
            await response.StartAsync(cancellation.Token);
            body.Write(MjpegWriter.Preamble);
            await body.FlushAsync(cancellation.Token);
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            return;
        }
        var client = new ClientInfo("mjpeg", ViewerRequest.Remote(context));
        var end = await ViewerLoop.RunAsync(camera, client, new PartWriter(body), fps, options.SendTimeout, logger, cancellation.Token);
        if (end == ViewerLoop.EndReason.SendTimeout)
        {
            context.Abort();
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
