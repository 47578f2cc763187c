using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using VideoEdge.Cameras;
using VideoEdge.Hub;
using VideoEdge.Interop;
using VideoEdge.Variants;
using VideoEdge.Viewers;

namespace VideoEdge.Api;

/// <summary>
/// GET /ws: one binary message per frame, each a complete JPEG. With ?meta=1 a small JSON text
/// message (sequence, capture time, size) precedes each frame, for pages that show frame age.
/// Served by <see cref="WebSocketSession"/> over HTTP/1.1 (upgrade) and HTTP/2 (RFC 8441 extended
/// CONNECT, which Chromium uses over TLS), so the route takes GET and CONNECT.
/// </summary>
public static class WebSocketEndpoint
{
    public static async Task HandleAsync(HttpContext context, Camera camera)
    {
        if (!ViewerRequest.TryReadStream(context, out var fps, out var maxAge, out var problem)
            || !ViewerRequest.TryReadFlag(context, "meta", out var meta, out problem))
        {
            await problem!.WriteAsync(context);
            return;
        }
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await ApiProblem.Create(StatusCodes.Status400BadRequest, "WebSocket required",
                "This endpoint speaks WebSocket (ws://…/ws); for plain HTTP use /stream.mjpg.").WriteAsync(context);
            return;
        }
        using var admitted = await ViewerRequest.AdmitAsync(context);
        if (admitted is null)
        {
            return;
        }
        var (logger, stopping, cancellation) = (admitted.Logger, admitted.Stopping, admitted.Cancellation);
        ByteSink sink;
        Stream incoming;
        try
        {
            (sink, incoming) = await StartAsync(context, cancellation.Token);
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            context.Abort();
            return;
        }
        // An HTTP/2 connection carries the page and every other stream too: its buffers are not this viewer's to cap.
        if (context.Request.Protocol is "HTTP/1.1" or "HTTP/1.0")
        {
            ViewerRequest.LimitSendBuffer(context, camera.Options.SendBufferBytes);
        }
        var client = new ViewerCounters(meta ? "websocket+meta" : "websocket", ViewerRequest.Remote(context));
        var session = new WebSocketSession(sink, incoming);
        var receiving = session.ReceiveAsync(client, logger, cancellation, context.RequestAborted);
        // The viewer's close ends the sending side (the receive loop cancels it); a frame going out
        // still finishes (ViewerLoop.SendGrace), so that our close can follow it.
        var end = await AdaptiveViewer.RunAsync(camera, client, WebSocketFramer.For(meta), sink, fps, maxAge, logger, cancellation.Token);
        var heard = receiving.IsCompleted ? await receiving : WebSocketSession.Heard.Gone;
        var (status, reason) = end.Reason == ViewerLoop.EndReason.ServerStopping || stopping.IsCancellationRequested ? (1001, "server stopping")
            : heard == WebSocketSession.Heard.ProtocolError ? (1002, "protocol error")
            : (1000, "bye");
        var closed = false;
        if (end.Reason != ViewerLoop.EndReason.SendTimeout && heard != WebSocketSession.Heard.Abuse && sink.CanSend)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            closed = await session.TryCloseAsync(status, reason, closing.Token);
        }
        // Give the viewer a moment to answer our close (the receive side ends when it does), then
        // close TCP; a viewer that broke the protocol, stalled or abused us is simply dropped.
        if (closed && heard != WebSocketSession.Heard.ProtocolError
            && (receiving.IsCompleted || await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)) == receiving))
        {
            sink.Finish();
        }
        else
        {
            sink.Abort();
        }
        await receiving;
    }

    /// <summary>
    /// Completes the handshake, which the caller has validated (<c>IsWebSocketRequest</c>): an HTTP/2
    /// extended CONNECT is answered 200, an HTTP/1.1 upgrade 101. As for MJPEG, plain HTTP/1.x gets the
    /// socket itself as its sink, anything else the stream Kestrel frames.
    /// </summary>
    private static async Task<(ByteSink Sink, Stream Incoming)> StartAsync(HttpContext context, CancellationToken cancellation)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            var stream = await connect.AcceptAsync();
            return (new StreamSink(stream, context), stream);
        }
        var upgrade = context.Features.GetRequiredFeature<IHttpUpgradeFeature>();
        var accept = AcceptKey(context.Request.Headers.SecWebSocketKey.ToString());
        context.Response.Headers.Upgrade = "websocket";
        context.Response.Headers.SecWebSocketAccept = accept;
        var socket = SocketSink.TryCreate(context, ownsResponse: false);
        var before = socket is null ? null : TcpInfo.BytesWritten(socket.Socket);
        var incoming = await upgrade.UpgradeAsync();
        if (socket is null || before is null)
        {
            // TLS (or no socket, or a kernel without tcp_info's byte counts): through Kestrel, which orders our bytes after its 101.
            return (new StreamSink(incoming, context), incoming);
        }
        // Kestrel hands its 101 to its own send loop; our first frame must not overtake it on the wire.
        // The response is one small write, so once the socket has taken at least its fixed part, it has
        // all of it. (An earlier response on this connection still unsent at this point would need a
        // client that pipelines an upgrade behind other requests; browsers open a new connection.)
        var least = before.Value + "HTTP/1.1 101 Switching Protocols\r\n\r\n".Length + "Upgrade: websocket\r\n".Length
            + "Sec-WebSocket-Accept: \r\n".Length + accept.Length;
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        patience.CancelAfter(TimeSpan.FromSeconds(5));
        while (TcpInfo.BytesWritten(socket.Socket) < least)
        {
            await Task.Delay(1, patience.Token);
        }
        return (socket, incoming);
    }

    /// <summary>Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2).</summary>
    internal static string AcceptKey(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key.Trim() + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
}
