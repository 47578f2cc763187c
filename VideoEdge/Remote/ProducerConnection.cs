using System.Net.WebSockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Viewers;

namespace VideoEdge.Remote;

/// <summary>
/// One producer's WebSocket: receives each frame into a pooled frame (the one copy), checks it, hands good ones to
/// the feed, and tells the producer to pause or resume as viewers come and go.
/// Only the demand task sends until the receive loop ends, then the close is sent: one send at a time.
/// </summary>
internal sealed partial class ProducerConnection(WebSocket socket, Camera camera, RemoteFeed feed, int maxFrameBytes, ILogger logger)
{
    private static readonly byte[] s_pause = "pause"u8.ToArray();
    private static readonly byte[] s_resume = "resume"u8.ToArray();

    public string EndReason { get; private set; } = "closed";
    public long Accepted { get; private set; }
    public long Rejected { get; private set; }

    /// <summary>Past this a message is not worth draining: the producer is not sending frames.</summary>
    private long HardLimit => 4L * maxFrameBytes;

    public async Task RunAsync(CancellationToken aborted, CancellationToken stopping)
    {
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping);
        var telling = TellDemandAsync(cancellation.Token);
        var (status, description) = await ReceiveAsync(stopping, cancellation.Token);
        await cancellation.CancelAsync();
        await telling;
        if (status is { } closeStatus && socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await socket.CloseOutputAsync(closeStatus, description, closing.Token);
            }
            catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
            {
            }
        }
    }

    /// <summary>A first message is received into a frame this large; later ones into one half again as large as the last.</summary>
    private const int InitialFrameBytes = 64 * 1024;

    private async Task<(WebSocketCloseStatus? Status, string? Description)> ReceiveAsync(CancellationToken stopping, CancellationToken cancellation)
    {
        // Each message is received straight into a pooled frame, which the feed then owns: the JPEG is
        // copied once, from Kestrel's buffers, and nothing is allocated per frame.
        var pool = camera.Pool;
        var capacity = Math.Min(InitialFrameBytes, maxFrameBytes);
        Frame? frame = null;
        byte[]? drain = null;
        var invalidInARow = 0;
        try
        {
            while (true)
            {
                frame ??= pool.Rent(capacity);
                var length = 0;
                var total = 0L;
                var tooLarge = false;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (!tooLarge && length == frame.Length)
                    {
                        if (length >= maxFrameBytes)
                        {
                            tooLarge = true;
                        }
                        else
                        {
                            var bigger = pool.Rent(Math.Min(maxFrameBytes, 2 * length));
                            frame.Span.CopyTo(bigger.WritableSpan);
                            frame.Release();
                            frame = bigger;
                        }
                    }
                    var target = tooLarge ? (drain ??= new byte[16 * 1024]).AsMemory() : MemoryMarshal.AsMemory(frame.Memory[length..]);
                    result = await socket.ReceiveAsync(target, cancellation);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        EndReason = "the producer closed";
                        return (WebSocketCloseStatus.NormalClosure, "bye");
                    }
                    total += result.Count;
                    length += tooLarge ? 0 : result.Count;
                    if (total > HardLimit)
                    {
                        Rejected++;
                        camera.Stats.CountDropped();
                        EndReason = $"a message over {HardLimit} bytes";
                        return (WebSocketCloseStatus.MessageTooBig, $"frames may be at most {maxFrameBytes} bytes");
                    }
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Binary && !tooLarge && JpegHeader.TryInspect(frame.Span[..length], out var width, out var height))
                {
                    invalidInARow = 0;
                    Accepted++;
                    capacity = Math.Min(maxFrameBytes, Math.Max(capacity, length + length / 2));
                    frame.Truncate(length);
                    feed.Offer(frame, width, height);
                    frame = null;
                    continue;
                }
                // The frame (still at its full size) is kept for the next message.
                Rejected++;
                camera.Stats.CountDropped();
                if (++invalidInARow >= IngestEndpoint.MaxInvalidInARow)
                {
                    EndReason = $"{invalidInARow} invalid messages in a row";
                    return (WebSocketCloseStatus.PolicyViolation, $"expected one JPEG of at most {maxFrameBytes} bytes per binary message");
                }
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            EndReason = stopping.IsCancellationRequested ? "server stopping" : "connection lost";
            return stopping.IsCancellationRequested ? (WebSocketCloseStatus.EndpointUnavailable, "server stopping") : (null, null);
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            EndReason = "connection lost: " + ex.Message;
            return (null, null);
        }
        finally
        {
            frame?.Release();
        }
    }

    /// <summary>Sends "pause" or "resume" whenever the hub's demand changes (and once at the start).</summary>
    private async Task TellDemandAsync(CancellationToken cancellation)
    {
        var hub = camera.Hub;
        using var changes = new DemandWatch(hub);
        try
        {
            bool? told = null;
            while (true)
            {
                var demand = hub.HasDemand;
                if (demand != told)
                {
                    await socket.SendAsync(demand ? s_resume : s_pause, WebSocketMessageType.Text, true, cancellation);
                    told = demand;
                    LogTold(logger, camera.Name, demand ? "resume" : "pause", hub.ViewerCount);
                }
                // A snapshot's demand lapses after a few seconds without an event: only then look again.
                var recheck = demand && hub.ViewerCount == 0 ? TimeSpan.FromSeconds(1) : Timeout.InfiniteTimeSpan;
                await changes.WaitAsync(recheck, cancellation);
            }
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: told the producer to {Command} ({Viewers} viewers)")]
    private static partial void LogTold(ILogger logger, string camera, string command, int viewers);
}
