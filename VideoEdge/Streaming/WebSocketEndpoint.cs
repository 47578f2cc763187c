using System.Buffers;
using System.Buffers.Text;
using Microsoft.Extensions.Logging;
using VideoEdge.Api;
using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Hub;

namespace VideoEdge.Streaming;

/// <summary>
/// GET /ws: one binary message per frame, each a complete JPEG. With ?meta=1 a small JSON text
/// message (sequence, capture time, size) precedes each frame, for pages that show frame age.
/// Served by <see cref="DirectWebSocket"/> over HTTP/1.1 (upgrade) and HTTP/2 (RFC 8441 extended
/// CONNECT, which Chromium uses over TLS), so the route takes GET and CONNECT.
/// </summary>
public static partial class WebSocketEndpoint
{
    /// <summary>Viewers have nothing to tell us but "close"; anything bigger is abuse.</summary>
    public const int MaxIncomingMessageBytes = 4096;
    /// <summary>Frames of any kind, control frames included; a page sends none but its close.</summary>
    private const int MaxIncomingFramesPerSecond = 50;

    public static async Task HandleAsync(HttpContext context, Camera camera)
    {
        if (!ViewerRequest.TryReadFps(context, out var fps, out var problem)
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
        var services = context.RequestServices;
        using var admitted = await services.GetRequiredService<ViewerAdmission>().AdmitAsync(context);
        if (admitted is null)
        {
            return;
        }
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("VideoEdge.Viewers");
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        var client = new ViewerCounters(meta ? "websocket+meta" : "websocket", ViewerRequest.Remote(context));
        DirectWebSocket socket;
        try
        {
            socket = await DirectWebSocket.AcceptAsync(context, meta, cancellation.Token);
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
        await ServeAsync(context, camera, socket, client, fps, logger, stopping, cancellation);
    }

    /// <summary>What ended a viewer's receive side.</summary>
    private enum Heard { Gone, Close, ProtocolError, Abuse }

    private static async Task ServeAsync(HttpContext context, Camera camera, DirectWebSocket socket, ViewerCounters client, double fps, ILogger logger, CancellationToken stopping, CancellationTokenSource cancellation)
    {
        var receiving = ReceiveAsync(socket, client, logger, cancellation, context.RequestAborted);
        var end = await ViewerLoop.RunAsync(camera, client, socket, fps, camera.Options.SendTimeout, logger, cancellation.Token);
        var heard = receiving.IsCompleted ? await receiving : Heard.Gone;
        var (status, reason) = end == ViewerLoop.EndReason.ServerStopping || stopping.IsCancellationRequested ? (1001, "server stopping")
            : heard == Heard.ProtocolError ? (1002, "protocol error")
            : (1000, "bye");
        var closed = false;
        if (end != ViewerLoop.EndReason.SendTimeout && heard != Heard.Abuse && socket.CanSend)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            closed = await socket.TryCloseAsync(status, reason, closing.Token);
        }
        // Give the viewer a moment to answer our close (the receive side ends when it does), then
        // close TCP; a viewer that broke the protocol, stalled or abused us is simply dropped.
        if (closed && heard != Heard.ProtocolError
            && (receiving.IsCompleted || await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)) == receiving))
        {
            socket.Finish();
        }
        else
        {
            context.Abort();
        }
        await receiving;
    }

    /// <summary>
    /// Parses what a viewer sends: answers pings, notices its close, and limits it. Every frame
    /// counts against the rate, control frames and empty fragments included: each costs us a parse
    /// (a ping also a pong), and a limit that skips any kind of frame is no limit.
    /// </summary>
    private static async Task<Heard> ReceiveAsync(DirectWebSocket socket, ViewerCounters client, ILogger logger, CancellationTokenSource stopSending, CancellationToken peerGone)
    {
        var reader = new WebSocketFrameReader(MaxIncomingMessageBytes);
        // Room for the longest frame the reader accepts (4 KB payload, 14 header bytes): each is parsed whole.
        var buffer = ArrayPool<byte>.Shared.Rent(MaxIncomingMessageBytes + 14);
        var filled = 0;
        var windowStart = Environment.TickCount64;
        var framesInWindow = 0;
        try
        {
            while (true)
            {
                var n = await socket.Incoming.ReadAsync(buffer.AsMemory(filled), peerGone);
                if (n == 0)
                {
                    return Heard.Gone;
                }
                filled += n;
                var start = 0;
                while (true)
                {
                    var result = reader.Read(buffer.AsSpan(start, filled - start), out var consumed, out var payload);
                    if (result == WebSocketFrameReader.Result.NeedMore)
                    {
                        break;
                    }
                    var frame = buffer.AsMemory(start, consumed);
                    start += consumed;
                    switch (result)
                    {
                        case WebSocketFrameReader.Result.Close:
                            return Heard.Close;
                        case WebSocketFrameReader.Result.ProtocolError:
                            return Heard.ProtocolError;
                        case WebSocketFrameReader.Result.TooBig:
                            LogAbuse(logger, client.Id, client.Remote, "a message over 4 KB");
                            return Heard.Abuse;
                        default:
                            var now = Environment.TickCount64;
                            if (now - windowStart > 1000)
                            {
                                windowStart = now;
                                framesInWindow = 0;
                            }
                            if (++framesInWindow > MaxIncomingFramesPerSecond)
                            {
                                LogAbuse(logger, client.Id, client.Remote, "more than 50 frames a second");
                                return Heard.Abuse;
                            }
                            if (result == WebSocketFrameReader.Result.Ping)
                            {
                                await socket.PongAsync(frame[payload], peerGone);
                            }
                            break;
                    }
                }
                buffer.AsSpan(start, filled - start).CopyTo(buffer);
                filled -= start;
            }
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            return Heard.Gone;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await stopSending.CancelAsync();
        }
    }

    internal static int FormatMeta(Frame frame, Span<byte> destination)
    {
        var n = Append("{\"seq\":"u8, destination);
        Utf8Formatter.TryFormat(frame.Sequence, destination[n..], out var w);
        n += w;
        n += Append(",\"ts\":"u8, destination[n..]);
        n += MjpegWriter.FormatSeconds(frame.TimestampMicros, destination[n..]);
        n += Append(",\"width\":"u8, destination[n..]);
        Utf8Formatter.TryFormat(frame.Width, destination[n..], out w);
        n += w;
        n += Append(",\"height\":"u8, destination[n..]);
        Utf8Formatter.TryFormat(frame.Height, destination[n..], out w);
        n += w;
        n += Append(",\"bytes\":"u8, destination[n..]);
        Utf8Formatter.TryFormat(frame.Length, destination[n..], out w);
        n += w;
        n += Append(frame.IsNoSignal ? ",\"noSignal\":true}"u8 : ",\"noSignal\":false}"u8, destination[n..]);
        return n;
    }

    private static int Append(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Viewer {Id} ({Remote}) closed: it sent {What}")]
    private static partial void LogAbuse(ILogger logger, long id, string remote, string what);
}
