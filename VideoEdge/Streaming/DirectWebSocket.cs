using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.Features;
using VideoEdge.Frames;

namespace VideoEdge.Streaming;

/// <summary>
/// A WebSocket viewer served by our own RFC 6455 code on every transport, without
/// <c>ManagedWebSocket</c>: what it sends is parsed by <see cref="WebSocketFrameReader"/> (so every
/// client frame is seen and limited alike), and every message goes out through an
/// <see cref="IByteSink"/> as one header plus the shared frame buffer. On plain HTTP/1.1 that sink
/// is the socket itself (<see cref="DirectSocketSender"/>: one sendmsg, no copy); over TLS and
/// HTTP/2 (RFC 8441 extended CONNECT) it is the stream Kestrel encrypts and frames. Frames, pongs
/// and closes share one lock, so a control frame never lands in the middle of a picture.
/// </summary>
public sealed class DirectWebSocket : IFrameWriter
{
    private static long s_directSessions;

    private readonly IByteSink _sender;
    private readonly bool _meta;
    private readonly SemaphoreSlim _sending = new(1, 1);
    // Text frame header + meta JSON + binary frame header: one contiguous head for the frame's send.
    private readonly byte[] _head = new byte[2 * WebSocketFrameHeader.MaxLength + 160];
    private readonly byte[] _control = new byte[WebSocketFrameHeader.MaxLength + 125];
    private bool _finished;

    private DirectWebSocket(IByteSink sender, Stream incoming, bool meta)
    {
        _sender = sender;
        Incoming = incoming;
        _meta = meta;
    }

    /// <summary>How many viewers have been served straight on their socket since start.</summary>
    public static long DirectSessions => Interlocked.Read(ref s_directSessions);

    /// <summary>Kestrel's upgraded (or extended CONNECT) stream; only its read side is used unless the sink is the stream.</summary>
    public Stream Incoming { get; }

    /// <summary>False once a write was cut short (the peer's view of the framing is lost) or a close went out: nothing more may be sent.</summary>
    public bool CanSend => !_finished;

    /// <summary>
    /// Completes the handshake, which the caller has validated (<c>IsWebSocketRequest</c>): an HTTP/2
    /// extended CONNECT is answered 200, an HTTP/1.1 upgrade 101.
    /// </summary>
    public static async Task<DirectWebSocket> AcceptAsync(HttpContext context, bool meta, CancellationToken cancellation)
    {
        if (context.Features.Get<IHttpExtendedConnectFeature>() is { IsExtendedConnect: true } connect)
        {
            var stream = await connect.AcceptAsync();
            return new DirectWebSocket(new StreamByteSink(stream), stream, meta);
        }
        var upgrade = context.Features.GetRequiredFeature<IHttpUpgradeFeature>();
        var accept = WebSocketFrameHeader.AcceptKey(context.Request.Headers.SecWebSocketKey.ToString());
        context.Response.Headers.Upgrade = "websocket";
        context.Response.Headers.SecWebSocketAccept = accept;
        var sender = DirectSocketSender.TryCreate(context);
        var before = sender?.BytesWritten();
        var incoming = await upgrade.UpgradeAsync();
        if (sender is null || before is null)
        {
            // TLS (or no socket, or a kernel without tcp_info's byte counts): through Kestrel, which orders our bytes after its 101.
            return new DirectWebSocket(new StreamByteSink(incoming), incoming, meta);
        }
        // Kestrel hands its 101 to its own send loop; our first frame must not overtake it on the wire.
        // The response is one small write, so once the socket has taken at least its fixed part, it has
        // all of it. (An earlier response on this connection still unsent at this point would need a
        // client that pipelines an upgrade behind other requests; browsers open a new connection.)
        var least = before.Value + "HTTP/1.1 101 Switching Protocols\r\n\r\n".Length + "Upgrade: websocket\r\n".Length
            + "Sec-WebSocket-Accept: \r\n".Length + accept.Length;
        using var patience = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        patience.CancelAfter(TimeSpan.FromSeconds(5));
        while (sender.BytesWritten() < least)
        {
            await Task.Delay(1, patience.Token);
        }
        Interlocked.Increment(ref s_directSessions);
        return new DirectWebSocket(sender, incoming, meta);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(Frame frame, CancellationToken cancellation)
    {
        await _sending.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            var n = 0;
            if (_meta)
            {
                var json = WebSocketEndpoint.FormatMeta(frame, _head.AsSpan(WebSocketFrameHeader.MaxLength));
                var header = WebSocketFrameHeader.Write(_head, WebSocketFrameHeader.Text, json);
                // The header is shorter than the room left for it: slide the JSON down behind it.
                _head.AsSpan(WebSocketFrameHeader.MaxLength, json).CopyTo(_head.AsSpan(header));
                n = header + json;
            }
            n += WebSocketFrameHeader.Write(_head.AsSpan(n), WebSocketFrameHeader.Binary, frame.Length);
            await SendAsync(_head.AsMemory(0, n), frame.Memory, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Answers a ping with a pong carrying the same payload (at most 125 bytes).</summary>
    public async Task PongAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellation)
    {
        await _sending.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            var n = WebSocketFrameHeader.Write(_control, WebSocketFrameHeader.Pong, payload.Length);
            payload.Span.CopyTo(_control.AsSpan(n));
            await SendAsync(_control.AsMemory(0, n + payload.Length), ReadOnlyMemory<byte>.Empty, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Sends a close frame; false when it could not be (the connection is broken or gone).</summary>
    public async Task<bool> TryCloseAsync(int status, string reason, CancellationToken cancellation)
    {
        try
        {
            await _sending.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                var n = WebSocketFrameHeader.WriteClose(_control, status, reason);
                await SendAsync(_control.AsMemory(0, n), ReadOnlyMemory<byte>.Empty, cancellation).ConfigureAwait(false);
                // RFC 6455 section 5.5.1: no data frames (nor pongs) after a close.
                _finished = true;
                return true;
            }
            finally
            {
                _sending.Release();
            }
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            return false;
        }
    }

    /// <summary>After the closing handshake the server closes TCP (or its HTTP/2 stream) first (RFC 6455 section 7.1.1).</summary>
    public void Finish() => _sender.Finish();

    /// <summary>Sends with the lock held; a send cut short (cancelled, failed) leaves the framing broken for good.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, CancellationToken cancellation)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        try
        {
            await _sender.SendAsync(head, body, ReadOnlyMemory<byte>.Empty, cancellation).ConfigureAwait(false);
        }
        catch
        {
            _finished = true;
            throw;
        }
    }
}
