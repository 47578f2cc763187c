using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using VideoEdge.Hub;

namespace VideoEdge.Viewers;

/// <summary>
/// A WebSocket viewer's connection, served by our own RFC 6455 code on every transport (no
/// <c>ManagedWebSocket</c>): what the viewer sends is parsed by <see cref="WebSocketFrameReader"/>
/// (so every client frame is seen and limited alike), and what we send goes out through one
/// <see cref="IByteSink"/> — the socket itself on plain HTTP/1.1, the stream Kestrel encrypts and
/// frames over TLS and HTTP/2 (RFC 8441 extended CONNECT). Frames, pongs and the close share one
/// lock, so a control frame never lands in the middle of a picture.
/// </summary>
public sealed partial class WebSocketSession : IByteSink
{
    /// <summary>Viewers have nothing to tell us but "close"; anything bigger is abuse.</summary>
    public const int MaxIncomingMessageBytes = 4096;
    /// <summary>Frames of any kind, control frames included; a page sends none but its close.</summary>
    private const int MaxIncomingFramesPerSecond = 50;

    private readonly IByteSink _sink;
    private readonly Stream _incoming;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly byte[] _control = new byte[WebSocketFramer.MaxLength + 125];
    private bool _finished;

    /// <summary>A session over an accepted connection: <paramref name="sink"/> sends, <paramref name="incoming"/> is what the viewer sends.</summary>
    public WebSocketSession(IByteSink sink, Stream incoming)
    {
        _sink = sink;
        _incoming = incoming;
    }

    /// <summary>What ended the viewer's side of the conversation.</summary>
    public enum Heard { Gone, Close, ProtocolError, Abuse }

    /// <summary>False once a send was cut short (the peer's view of the framing is lost) or a close went out: nothing more may be sent.</summary>
    public bool CanSend => !_finished;

    /// <summary>One message (head, shared frame buffer, tail) with the lock held.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
    {
        await _sending.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await SendLockedAsync(head, body, tail, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// A frame straight from the publishing thread when nothing else is being sent. A message cut
    /// short by a full socket keeps the send lock: no pong or close may land inside it before
    /// <see cref="SendRestAsync"/> finishes it.
    /// </summary>
    public bool SendsDirectly => _sink.SendsDirectly;

    public long TrySendNow(ReadOnlySpan<byte> head, ReadOnlySpan<byte> body, ReadOnlySpan<byte> tail)
    {
        if (_finished || !_sending.Wait(0))
        {
            return -1;
        }
        long sent;
        try
        {
            sent = _finished ? -1 : _sink.TrySendNow(head, body, tail);
        }
        catch
        {
            _finished = true;
            _sending.Release();
            throw;
        }
        if (sent <= 0 || sent == head.Length + body.Length + tail.Length)
        {
            _sending.Release();
        }
        return sent;
    }

    /// <summary>Finishes the message <see cref="TrySendNow"/> started; the send lock is still held from it.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendRestAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, long sent, CancellationToken cancellation)
    {
        try
        {
            await _sink.SendRestAsync(head, body, tail, sent, cancellation).ConfigureAwait(false);
        }
        catch
        {
            _finished = true;
            throw;
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
                var n = WebSocketFramer.WriteClose(_control, status, reason);
                await SendLockedAsync(_control.AsMemory(0, n), default, default, cancellation).ConfigureAwait(false);
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
    public void Finish() => _sink.Finish();

    public void Abort() => _sink.Abort();

    public long Progress => _sink.Progress;

    public double Rate => _sink.Rate;

    public ValueTask WaitForRoomAsync(CancellationToken cancellation) => _sink.WaitForRoomAsync(cancellation);

    /// <summary>
    /// Parses what the viewer sends until it closes, breaks the protocol, overdoes it or goes away:
    /// answers pings and limits it. Every frame counts against the rate, control frames and empty
    /// fragments included: each costs us a parse (a ping also a pong), and a limit that skips any
    /// kind of frame is no limit. <paramref name="stopSending"/> is cancelled when it returns.
    /// </summary>
    public async Task<Heard> ReceiveAsync(ViewerCounters client, ILogger logger, CancellationTokenSource stopSending, CancellationToken peerGone)
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
                var n = await _incoming.ReadAsync(buffer.AsMemory(filled), peerGone);
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
                                await PongAsync(frame[payload], peerGone);
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

    /// <summary>Answers a ping with a pong carrying the same payload (at most 125 bytes).</summary>
    private async Task PongAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellation)
    {
        await _sending.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            var n = WebSocketFramer.Write(_control, WebSocketFramer.Pong, payload.Length);
            payload.Span.CopyTo(_control.AsSpan(n));
            await SendLockedAsync(_control.AsMemory(0, n + payload.Length), default, default, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>A send cut short (cancelled, failed) leaves the framing broken for good.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendLockedAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        try
        {
            await _sink.SendAsync(head, body, tail, cancellation).ConfigureAwait(false);
        }
        catch
        {
            _finished = true;
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Viewer {Id} ({Remote}) closed: it sent {What}")]
    private static partial void LogAbuse(ILogger logger, long id, string remote, string what);
}
