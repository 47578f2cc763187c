using System.Buffers;
using System.Buffers.Text;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using VideoEdge.Api;
using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Hub;

namespace VideoEdge.Streaming;

/// <summary>
/// GET /ws: one binary message per frame, each a complete JPEG. With ?meta=1 a small JSON text
/// message (sequence, capture time, size) precedes each frame, for pages that show frame age.
/// Plain HTTP/1.1 viewers are served by <see cref="DirectWebSocket"/>; the framework's WebSocket
/// remains for TLS and connections without a socket.
/// </summary>
public static partial class WebSocketEndpoint
{
    /// <summary>Viewers have nothing to tell us but "close"; anything bigger is abuse.</summary>
    public const int MaxIncomingMessageBytes = 4096;
    private const int MaxIncomingMessagesPerSecond = 50;

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
        var client = new ClientInfo(meta ? "websocket+meta" : "websocket", ViewerRequest.Remote(context));
        DirectWebSocket? direct;
        try
        {
            direct = await DirectWebSocket.TryAcceptAsync(context, meta, cancellation.Token);
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            context.Abort();
            return;
        }
        if (direct is not null)
        {
            ViewerRequest.LimitSendBuffer(context, camera.Options.SendBufferBytes);
            await ServeDirectAsync(context, camera, direct, client, fps, logger, stopping, cancellation);
            return;
        }
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { DangerousEnableCompression = false });
        ViewerRequest.LimitSendBuffer(context, camera.Options.SendBufferBytes);
        // The receive side listens only for the peer going away: cancelling a pending WebSocket receive
        // aborts the socket, which on shutdown would cut viewers off before they get our close frame.
        var receiving = DrainIncomingAsync(socket, client, logger, cancellation, context.RequestAborted);
        var end = await ViewerLoop.RunAsync(camera, client, new MessageWriter(socket, meta), fps, camera.Options.SendTimeout, logger, cancellation.Token);
        if (end == ViewerLoop.EndReason.SendTimeout)
        {
            socket.Abort();
        }
        else if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                var status = end == ViewerLoop.EndReason.ServerStopping || stopping.IsCancellationRequested ? WebSocketCloseStatus.EndpointUnavailable : WebSocketCloseStatus.NormalClosure;
                await socket.CloseOutputAsync(status, status == WebSocketCloseStatus.EndpointUnavailable ? "server stopping" : "bye", closing.Token);
            }
            catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
            {
            }
        }
        // Give the viewer a moment to answer our close (the receive loop ends when it does), then drop it.
        if (await Task.WhenAny(receiving, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)) != receiving)
        {
            socket.Abort();
            await receiving;
        }
    }

    /// <summary>What ended a direct viewer's receive side.</summary>
    private enum Heard { Gone, Close, ProtocolError, Abuse }

    private static async Task ServeDirectAsync(HttpContext context, Camera camera, DirectWebSocket socket, ClientInfo client, double fps, ILogger logger, CancellationToken stopping, CancellationTokenSource cancellation)
    {
        var receiving = ReceiveDirectAsync(socket, client, logger, cancellation, context.RequestAborted);
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
    /// Parses what a direct viewer sends: answers pings, notices its close, and applies the same
    /// limits as <see cref="DrainIncomingAsync"/> (pings count as messages: each costs us a pong).
    /// </summary>
    private static async Task<Heard> ReceiveDirectAsync(DirectWebSocket socket, ClientInfo client, ILogger logger, CancellationTokenSource stopSending, CancellationToken peerGone)
    {
        var reader = new WebSocketFrameReader(MaxIncomingMessageBytes);
        // Room for the longest frame the reader accepts (4 KB payload, 14 header bytes): each is parsed whole.
        var buffer = ArrayPool<byte>.Shared.Rent(MaxIncomingMessageBytes + 14);
        var filled = 0;
        var windowStart = Environment.TickCount64;
        var messagesInWindow = 0;
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
                        case WebSocketFrameReader.Result.Message or WebSocketFrameReader.Result.Ping:
                            var now = Environment.TickCount64;
                            if (now - windowStart > 1000)
                            {
                                windowStart = now;
                                messagesInWindow = 0;
                            }
                            if (++messagesInWindow > MaxIncomingMessagesPerSecond)
                            {
                                LogAbuse(logger, client.Id, client.Remote, "more than 50 messages a second");
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

    /// <summary>Reads and discards what the viewer sends, so its close handshake and pings are seen; ends the stream on close or abuse.</summary>
    private static async Task DrainIncomingAsync(WebSocket socket, ClientInfo client, ILogger logger, CancellationTokenSource stopSending, CancellationToken peerGone)
    {
        var buffer = new byte[512];
        var messageBytes = 0;
        var windowStart = Environment.TickCount64;
        var messagesInWindow = 0;
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), peerGone);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                messageBytes += result.Count;
                if (messageBytes > MaxIncomingMessageBytes)
                {
                    LogAbuse(logger, client.Id, client.Remote, "a message over 4 KB");
                    await CloseForAbuseAsync(socket, stopSending);
                    break;
                }
                if (!result.EndOfMessage)
                {
                    continue;
                }
                messageBytes = 0;
                var now = Environment.TickCount64;
                if (now - windowStart > 1000)
                {
                    windowStart = now;
                    messagesInWindow = 0;
                }
                if (++messagesInWindow > MaxIncomingMessagesPerSecond)
                {
                    LogAbuse(logger, client.Id, client.Remote, "more than 50 messages a second");
                    await CloseForAbuseAsync(socket, stopSending);
                    break;
                }
            }
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
        }
        finally
        {
            await stopSending.CancelAsync();
        }
    }

    /// <summary>
    /// Stops the sender and drops the connection. A close handshake would race the sender (a
    /// WebSocket allows one send at a time) and an abusive peer is owed none.
    /// </summary>
    private static async Task CloseForAbuseAsync(WebSocket socket, CancellationTokenSource stopSending)
    {
        await stopSending.CancelAsync();
        socket.Abort();
    }

    private sealed class MessageWriter(WebSocket socket, bool meta) : IFrameWriter
    {
        private readonly byte[] _header = new byte[160];

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        public async ValueTask WriteAsync(Frame frame, CancellationToken cancellation)
        {
            if (meta)
            {
                var n = FormatMeta(frame, _header);
                await socket.SendAsync(_header.AsMemory(0, n), WebSocketMessageType.Text, true, cancellation);
            }
            await socket.SendAsync(frame.Memory, WebSocketMessageType.Binary, true, cancellation);
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
