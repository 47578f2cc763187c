using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Hub;

namespace VideoEdge.Streaming;

/// <summary>
/// The per-viewer sender shared by every transport: wait for a frame newer than the last one sent,
/// take a reference, write it under a send deadline, release it. A viewer that is still writing
/// when newer frames arrive skips them; nothing ever queues for it.
/// </summary>
public static partial class ViewerLoop
{
    public enum EndReason { ClientGone, ServerStopping, SendTimeout }

    public static async Task<EndReason> RunAsync(Camera camera, ViewerCounters client, IFrameWriter writer, double fpsCap, TimeSpan sendTimeout, ILogger logger, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var subscription = camera.Hub.Subscribe(client, cancellation);
        using var pacer = fpsCap > 0 ? new PeriodicTimer(TimeSpan.FromSeconds(1 / fpsCap)) : null;
        var reason = EndReason.ClientGone;
        try
        {
            while (true)
            {
                using (var lease = await subscription.NextAsync().ConfigureAwait(false))
                {
                    if (!lease.HasFrame)
                    {
                        break;
                    }
                    var frame = lease.Frame;
                    deadline.CancelAfter(sendTimeout);
                    await writer.WriteAsync(frame, deadline.Token).ConfigureAwait(false);
                    deadline.CancelAfter(Timeout.InfiniteTimeSpan);
                    client.CountSent(frame.Length, subscription.Skipped);
                    camera.Stats.CountSent(frame.Length, subscription.Skipped);
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
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (IsDisconnect(ex))
        {
        }
        if (reason != EndReason.SendTimeout && camera.Hub.IsClosed)
        {
            reason = EndReason.ServerStopping;
        }
        if (reason == EndReason.SendTimeout)
        {
            LogSendTimeout(logger, client.Id, client.Transport, client.Remote, sendTimeout.TotalSeconds, client.FramesSent);
        }
        else
        {
            LogLeft(logger, client.Id, client.Transport, client.Remote, client.FramesSent, client.FramesSkipped);
        }
        return reason;
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
