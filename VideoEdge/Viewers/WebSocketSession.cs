using System.Buffers;
using Microsoft.Extensions.Logging;
using VideoEdge.Hub;

namespace VideoEdge.Viewers;

/// <summary>
/// The viewer's side of a WebSocket connection, served by our own RFC 6455 code on every transport
/// (no <c>ManagedWebSocket</c>): what the viewer sends is parsed by <see cref="WebSocketFrameReader"/>
/// (so every client frame is seen and limited alike) and answered — pings with pongs, and our close
/// — through the same <see cref="ByteSink"/> the frames go out by (the socket itself on plain
/// HTTP/1.1, the stream Kestrel encrypts and frames over TLS and HTTP/2, RFC 8441 extended CONNECT),
/// which sends one message at a time, so a control frame never lands in the middle of a picture.
/// </summary>
public sealed partial class WebSocketSession(ByteSink sink, Stream incoming)
{
    /// <summary>Viewers have nothing to tell us but "close"; anything bigger is abuse.</summary>
    public const int MaxIncomingMessageBytes = 4096;
    /// <summary>Frames of any kind, control frames included; a page sends none but its close.</summary>
    private const int MaxIncomingFramesPerSecond = 50;

    // One for each side: the receiving loop's pongs, and the close the endpoint sends meanwhile.
    private readonly byte[] _pong = new byte[WebSocketFramer.MaxLength + 125];
    private readonly byte[] _close = new byte[WebSocketFramer.MaxLength + 125];

    /// <summary>What ended the viewer's side of the conversation.</summary>
    public enum Heard { Gone, Close, ProtocolError, Abuse }

    /// <summary>Sends a close frame, the last message; false when it could not be (the connection is broken or gone).</summary>
    public async Task<bool> TryCloseAsync(int status, string reason, CancellationToken cancellation)
    {
        try
        {
            var n = WebSocketFramer.WriteClose(_close, status, reason);
            await sink.SendLastAsync(_close.AsMemory(0, n), cancellation).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            return false;
        }
    }

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
                var n = await incoming.ReadAsync(buffer.AsMemory(filled), peerGone);
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
        var n = WebSocketFramer.Write(_pong, WebSocketFramer.Pong, payload.Length);
        payload.Span.CopyTo(_pong.AsSpan(n));
        await sink.SendAsync(_pong.AsMemory(0, n + payload.Length), default, default, cancellation).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Viewer {Id} ({Remote}) closed: it sent {What}")]
    private static partial void LogAbuse(ILogger logger, long id, string remote, string what);
}
