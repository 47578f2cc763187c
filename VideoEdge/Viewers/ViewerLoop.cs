using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Hub;

namespace VideoEdge.Viewers;

/// <summary>
/// The one sender every viewer runs, whatever its transport: lease the next frame from the hub,
/// frame it, send head + shared buffer + tail under a send deadline, count it, give it back. A
/// viewer still sending when newer frames arrive skips them; nothing ever queues for it. This is
/// also the one place that decides why a viewer ended, and says so in the log.
/// </summary>
public static partial class ViewerLoop
{
    public enum EndReason { ClientGone, ServerStopping, SendTimeout }

    /// <summary>
    /// How long a send in flight may still take once the viewer is ending. A send cut short breaks the
    /// framing: a WebSocket viewer would then get no close (over HTTP/2 the stream is reset instead),
    /// and a client WebSocket (push) is aborted by a cancelled send.
    /// </summary>
    public static readonly TimeSpan SendGrace = TimeSpan.FromSeconds(1);

    /// <summary>How a viewer ended, and the error that ended it if one did.</summary>
    public readonly record struct End(EndReason Reason, Exception? Error);

    /// <summary>
    /// Sends until the subscription or <paramref name="cancellation"/> ends (a send in flight then gets
    /// <see cref="SendGrace"/> to finish) or a send fails, or the peer takes nothing for
    /// <paramref name="sendTimeout"/> while bytes wait for it (<see cref="ByteSink.Progress"/>: a viewer
    /// that receives, however slowly, stays). A frame
    /// starts only when the sink has room for it (<see cref="ByteSink.WaitForRoomAsync"/>); one that
    /// finds none is let go, and the next one goes once there is room. <paramref name="logger"/>
    /// null: the caller logs.
    /// </summary>
    public static async Task<End> RunAsync(Subscription subscription, IFramer framer, ByteSink sink, double fpsCap, TimeSpan sendTimeout,
        CameraStats? stats, ILogger? logger, CancellationToken cancellation)
    {
        var client = subscription.Client;
        var head = new byte[framer.MaxHeadBytes];
        using var deadline = new CancellationTokenSource();
        using var ending = cancellation.UnsafeRegister(static s =>
        {
            try
            {
                ((CancellationTokenSource)s!).CancelAfter(SendGrace);
            }
            catch (ObjectDisposedException)
            {
            }
        }, deadline);
        var watchdog = new Watchdog(sink, sendTimeout, deadline);
        using var ticking = new Timer(static s => ((Watchdog)s!).Tick(), watchdog, watchdog.Period, watchdog.Period);
        using var pacer = fpsCap > 0 ? new PeriodicTimer(TimeSpan.FromSeconds(1 / fpsCap)) : null;
        // Without a frame-rate cap, a viewer whose socket we write ourselves runs on the publishing
        // thread from its wait to its next one: one non-blocking sendmsg per frame and no wake-up.
        // Only a send that has to wait (a full socket, another message going out) leaves that thread.
        subscription.Framing = framer;
        subscription.ResumeOnPublisher = pacer is null && sink.SendsWithoutWaking;
        var reason = EndReason.ClientGone;
        Exception? error = null;
        // Frames leased but let go for lack of room: skipped too, though the hub never saw them skipped.
        long dropped = 0;
        try
        {
            while (true)
            {
                ValueTask room;
                using (var lease = await subscription.NextAsync().ConfigureAwait(false))
                {
                    if (!lease.HasFrame)
                    {
                        break;
                    }
                    // Looked at when a frame is there to send, not right after the last send: a viewer
                    // that keeps up has drained by then, and is not measured again for a while.
                    room = sink.WaitForRoomAsync(deadline.Token);
                    if (room.IsCompletedSuccessfully)
                    {
                        var frame = lease.Frame;
                        watchdog.Busy = true;
                        var n = framer.WriteHead(frame, head);
                        await sink.SendFrameAsync(head.AsMemory(0, n), frame, framer.Tail, deadline.Token).ConfigureAwait(false);
                        watchdog.Sent(n + frame.Length + framer.Tail.Length);
                        client.CountSent(frame.Length, subscription.Skipped + dropped);
                        stats?.CountSent(frame.Length, subscription.Skipped + dropped);
                        dropped = 0;
                    }
                    else
                    {
                        // This frame would queue behind the last one: let it go (its buffer back to the
                        // pool while the peer is slow), and once that has nearly drained send the next
                        // one published: a picture taken now, not one that aged while the link drained
                        // (a variant's hub, fed on demand, would otherwise have encoded it too early).
                        dropped++;
                    }
                }
                if (!room.IsCompletedSuccessfully)
                {
                    watchdog.Busy = true;
                    await room.ConfigureAwait(false);
                    watchdog.Busy = false;
                    continue;
                }
                if (pacer is not null && !await pacer.WaitForNextTickAsync(cancellation).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            reason = EndReason.SendTimeout;
        }
        catch (Exception ex) when (IsDisconnect(ex))
        {
            error = ex is OperationCanceledException ? null : ex;
        }
        finally
        {
            // The last send may have failed on the publishing thread: leave it before the caller cleans up.
            await Task.Yield();
        }
        if (reason != EndReason.SendTimeout && subscription.HubClosed)
        {
            reason = EndReason.ServerStopping;
        }
        if (logger is not null)
        {
            LogEnd(logger, client, reason, sendTimeout);
        }
        return new End(reason, error);
    }

    /// <summary>The one line a viewer's end is worth (for callers that run the loop more than once per viewer).</summary>
    public static void LogEnd(ILogger logger, ViewerCounters client, EndReason reason, TimeSpan sendTimeout)
    {
        if (reason == EndReason.SendTimeout)
        {
            LogSendTimeout(logger, client.Id, client.Transport, client.Remote, sendTimeout.TotalSeconds, client.FramesSent);
        }
        else
        {
            LogLeft(logger, client.Id, client.Transport, client.Remote, client.FramesSent, client.FramesSkipped);
        }
    }

    /// <summary>
    /// Cuts a viewer whose peer has taken nothing for the send timeout while bytes wait for it. Looks a
    /// few times per timeout (a timer, not a reset per frame), so the cut comes between one and 1¼
    /// timeouts after the last progress.
    /// </summary>
    private sealed class Watchdog(ByteSink sink, TimeSpan timeout, CancellationTokenSource deadline)
    {
        private long _sent;
        private long _last = -1;
        private long _since = Environment.TickCount64;

        public TimeSpan Period { get; } = TimeSpan.FromMilliseconds(Math.Max(50, timeout.TotalMilliseconds / 4));

        /// <summary>Bytes wait for the peer (a send in flight, or the last frame's still draining).</summary>
        public volatile bool Busy;

        /// <summary>A send completed: progress as far as a sink that cannot tell more knows.</summary>
        public void Sent(long bytes)
        {
            Interlocked.Add(ref _sent, bytes);
            Busy = false;
        }

        public void Tick()
        {
            var now = Environment.TickCount64;
            if (!Busy)
            {
                _last = -1;
                _since = now;
                return;
            }
            var progress = sink.Progress + Interlocked.Read(ref _sent);
            if (progress != _last)
            {
                _last = progress;
                _since = now;
            }
            else if (now - _since >= (long)timeout.TotalMilliseconds)
            {
                try
                {
                    deadline.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }

    /// <summary>The exceptions a peer going away produces; anything else is a bug and propagates.</summary>
    public static bool IsDisconnect(Exception ex) => ex is IOException or ObjectDisposedException
        or System.Net.Sockets.SocketException or System.Net.WebSockets.WebSocketException
        or Microsoft.AspNetCore.Connections.ConnectionResetException or OperationCanceledException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Viewer {Id} ({Transport} {Remote}) disconnected: no progress for {Seconds} s (slow or stalled client) after {Frames} frames")]
    private static partial void LogSendTimeout(ILogger logger, long id, string transport, string remote, double seconds, long frames);

    [LoggerMessage(Level = LogLevel.Information, Message = "Viewer {Id} ({Transport} {Remote}) left after {Frames} frames ({Skipped} skipped)")]
    private static partial void LogLeft(ILogger logger, long id, string transport, string remote, long frames, long skipped);
}
