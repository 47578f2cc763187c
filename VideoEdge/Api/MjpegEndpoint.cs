using System.Text;
using VideoEdge.Cameras;
using VideoEdge.Hub;
using VideoEdge.Variants;
using VideoEdge.Viewers;

namespace VideoEdge.Api;

/// <summary>GET /stream.mjpg: one multipart HTTP response per viewer, a part per frame.</summary>
public static class MjpegEndpoint
{
    public static async Task HandleAsync(HttpContext context, Camera camera)
    {
        if (!ViewerRequest.TryReadStream(context, out var fps, out var maxAge, out var problem))
        {
            await problem!.WriteAsync(context);
            return;
        }
        var response = context.Response;
        response.ContentType = MjpegFramer.ContentType;
        ViewerRequest.NoStore(response);
        // Tell nginx-style proxies not to buffer a live stream.
        response.Headers["X-Accel-Buffering"] = "no";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        using var admitted = await ViewerRequest.AdmitAsync(context);
        if (admitted is null)
        {
            return;
        }
        ViewerRequest.LimitSendBuffer(context, camera.Options.SendBufferBytes);
        var sink = await StartAsync(context, admitted.Token);
        if (sink is null)
        {
            return;
        }
        var client = new ViewerCounters("mjpeg", ViewerRequest.Remote(context));
        var end = await AdaptiveViewer.RunAsync(camera, client, MjpegFramer.Instance, sink, fps, maxAge, admitted.Logger, admitted.Token);
        if (end.Reason == ViewerLoop.EndReason.SendTimeout)
        {
            sink.Abort();
        }
        else
        {
            sink.Finish();
        }
    }

    /// <summary>Sends the response head and the first boundary; null when the viewer is already gone.</summary>
    private static async Task<ByteSink?> StartAsync(HttpContext context, CancellationToken cancellation)
    {
        // Plain HTTP/1.x: the whole response goes straight on the socket, head included.
        var socket = SocketSink.TryCreate(context, ownsResponse: true);
        ByteSink sink = (ByteSink?)socket ?? new StreamSink(context.Response.Body, context);
        try
        {
            if (socket is not null)
            {
                await socket.SendAsync(ResponseHead(context.Response), MjpegFramer.Preamble, ReadOnlyMemory<byte>.Empty, cancellation);
            }
            else
            {
                await context.Response.StartAsync(cancellation);
                await sink.SendAsync(MjpegFramer.Preamble, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, cancellation);
            }
            return sink;
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            sink.Abort();
            return null;
        }
    }

    /// <summary>
    /// A response head with every header the endpoint and middleware set, for a response written
    /// straight on the socket; its body ends when the connection closes.
    /// </summary>
    private static byte[] ResponseHead(HttpResponse response)
    {
        var head = new StringBuilder("HTTP/1.1 200 OK\r\n");
        foreach (var (name, values) in response.Headers)
        {
            foreach (var value in values)
            {
                head.Append(name).Append(": ").Append(value).Append("\r\n");
            }
        }
        head.Append("Connection: close\r\n\r\n");
        return Encoding.ASCII.GetBytes(head.ToString());
    }
}
