using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Frames;
using VideoEdge.Hub;
using VideoEdge.Viewers;

namespace VideoEdge.Push;

/// <summary>
/// Sends one local camera to a hub's ingest WebSocket, one JPEG per message ("hub" in this file
/// always means that remote server). Frames flow only while the hub says "resume": then the client watches the camera's FrameHub like a viewer (so the source
/// encodes), and on "pause" it stops watching (so it stops encoding too). One send is in flight at
/// a time and the next one is always the latest frame, so a slow link lowers the frame rate instead
/// of building a queue. A lost connection is retried with backoff, for as long as the process runs.
/// </summary>
public sealed partial class PushClient(Camera camera, Uri hubUrl, string token, TimeSpan sendTimeout, ILogger logger)
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _changed = new(0);
    private bool _resumed;
    private CancellationTokenSource? _run;
    private volatile bool _connected;
    private int _connections;

    /// <summary>What was sent, as the camera's FrameHub counts it for any viewer.</summary>
    public ViewerCounters Link { get; } = new("push", hubUrl.GetLeftPart(UriPartial.Authority));

    public bool Connected => _connected;

    public bool Paused
    {
        get
        {
            lock (_gate)
            {
                return !_resumed;
            }
        }
    }

    public int Connections => Volatile.Read(ref _connections);

    public async Task RunAsync(CancellationToken stop)
    {
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            failures = await ConnectAndSendAsync(stop) ? 1 : failures + 1;
            try
            {
                await Task.Delay(Backoff(failures), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Half a second after a connection ends, then doubling to at most 10 s while the hub cannot be reached.</summary>
    public static TimeSpan Backoff(int failures) => TimeSpan.FromSeconds(Math.Min(10, 0.5 * Math.Pow(2, Math.Min(failures, 6) - 1)));

    /// <summary>One connection, from handshake to its end; false when it could not be made.</summary>
    private async Task<bool> ConnectAndSendAsync(CancellationToken stop)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        socket.Options.CollectHttpResponseDetails = true;
        // Pings with a deadline notice a hub that vanished without closing, also while paused.
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(5);
        socket.Options.KeepAliveTimeout = TimeSpan.FromSeconds(10);
        using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(stop))
        {
            connecting.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                await socket.ConnectAsync(hubUrl, connecting.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or OperationCanceledException)
            {
                if (!stop.IsCancellationRequested)
                {
                    LogConnectFailed(logger, hubUrl, Explain(socket, ex));
                }
                return false;
            }
        }
        Interlocked.Increment(ref _connections);
        _connected = true;
        LogConnected(logger, camera.Name, hubUrl);
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var listening = ListenAsync(socket, sending);
        var reason = await SendWhileResumedAsync(socket, sending.Token);
        _connected = false;
        SetResumed(false);
        // Close properly (the hub then logs a producer that left, not a lost one): send our close,
        // and let the listener read the hub's answer; a pending receive must not be cancelled, as
        // that aborts the socket.
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            using var closing = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, stop.IsCancellationRequested ? "producer stopping" : "bye", closing.Token);
            }
            catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
            {
            }
        }
        if (await Task.WhenAny(listening, Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None)) != listening)
        {
            socket.Abort();
        }
        reason = await listening ?? reason;
        if (stop.IsCancellationRequested)
        {
            LogStopped(logger, hubUrl, Link.FramesSent);
        }
        else
        {
            LogDisconnected(logger, hubUrl, reason ?? "connection lost", Link.FramesSent);
        }
        return true;
    }

    /// <summary>Reads the hub's "pause"/"resume"; when the hub closes or the link drops, stops the sender.</summary>
    private async Task<string?> ListenAsync(WebSocket socket, CancellationTokenSource sending)
    {
        var buffer = new byte[64];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // Closed: the hub answered our close. CloseReceived: the hub closed first.
                    return socket.State == WebSocketState.Closed ? null
                        : $"the hub closed the connection ({socket.CloseStatus}: {socket.CloseStatusDescription})";
                }
                if (result.MessageType == WebSocketMessageType.Text && result.EndOfMessage)
                {
                    var text = buffer.AsSpan(0, result.Count);
                    if (text.SequenceEqual("pause"u8))
                    {
                        SetResumed(false);
                    }
                    else if (text.SequenceEqual("resume"u8))
                    {
                        SetResumed(true);
                    }
                }
            }
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            return "connection lost: " + ex.Message;
        }
        finally
        {
            await sending.CancelAsync();
        }
    }

    private void SetResumed(bool resumed)
    {
        lock (_gate)
        {
            if (_resumed == resumed)
            {
                return;
            }
            _resumed = resumed;
            if (!resumed)
            {
                _run?.Cancel();
            }
        }
        _changed.Release();
        if (_connected)
        {
            LogDemand(logger, resumed ? "resume: a viewer is watching, sending" : "pause: nobody is watching, not encoding or sending");
        }
    }

    /// <summary>
    /// While the hub says "resume", an ordinary viewer of the local camera whose sink is the outgoing
    /// WebSocket; on "pause" the viewer leaves (so the source stops encoding) and waits for the next resume.
    /// </summary>
    private async Task<string?> SendWhileResumedAsync(ClientWebSocket socket, CancellationToken session)
    {
        var sink = new OutgoingWebSocketSink(socket);
        try
        {
            while (true)
            {
                session.ThrowIfCancellationRequested();
                CancellationTokenSource? run = null;
                lock (_gate)
                {
                    if (_resumed)
                    {
                        _run = run = CancellationTokenSource.CreateLinkedTokenSource(session);
                    }
                }
                if (run is null)
                {
                    await _changed.WaitAsync(session);
                    continue;
                }
                ViewerLoop.End end;
                try
                {
                    // What the camera's FrameHub holds now was captured before the pause: start with the next one.
                    // A pause ends the subscription, not a send in flight: cancelling a send aborts the
                    // socket, so only the session's end cuts a send short, and only after a second.
                    using var subscription = camera.Hub.Subscribe(Link, run.Token, onlyNewer: true);
                    end = await ViewerLoop.RunAsync(subscription, BareFramer.Instance, sink, 0, sendTimeout, null, null, session);
                }
                finally
                {
                    lock (_gate)
                    {
                        _run = null;
                    }
                    run.Dispose();
                }
                if (end.Reason == ViewerLoop.EndReason.SendTimeout)
                {
                    return $"a frame took over {sendTimeout.TotalSeconds:0.#} s to send";
                }
                if (end.Error is not null)
                {
                    return session.IsCancellationRequested ? null : "connection lost: " + end.Error.Message;
                }
            }
        }
        catch (Exception ex) when (ViewerLoop.IsDisconnect(ex))
        {
            return session.IsCancellationRequested ? null : "connection lost: " + ex.Message;
        }
    }

    /// <summary>Each send is one binary message; the client WebSocket masks and frames it.</summary>
    private sealed class OutgoingWebSocketSink(ClientWebSocket socket) : ByteSink
    {
        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
        protected override async ValueTask WriteAsync(ReadOnlyMemory<byte> head, ReadOnlyMemory<byte> body, ReadOnlyMemory<byte> tail, CancellationToken cancellation)
        {
            if (!head.IsEmpty)
            {
                await socket.SendAsync(head, WebSocketMessageType.Binary, false, cancellation).ConfigureAwait(false);
            }
            await socket.SendAsync(body, WebSocketMessageType.Binary, tail.IsEmpty, cancellation).ConfigureAwait(false);
            if (!tail.IsEmpty)
            {
                await socket.SendAsync(tail, WebSocketMessageType.Binary, true, cancellation).ConfigureAwait(false);
            }
        }

        /// <summary>The push client closes the WebSocket properly itself.</summary>
        public override void Finish()
        {
        }

        public override void Abort() => socket.Abort();
    }

    private static string Explain(ClientWebSocket socket, Exception ex) => (int)socket.HttpStatusCode switch
    {
        401 => "the hub rejected the token (HTTP 401): check --token against the hub's --ingest-token",
        403 => "the hub has ingest switched off (HTTP 403): start it with --ingest-token",
        404 => "the hub has no camera of that name (HTTP 404): check the NAME in --to against its --camera NAME=remote",
        409 => "the hub refused (HTTP 409): the camera is not a remote one, or another producer feeds it",
        0 => ex is OperationCanceledException ? "no answer within 10 s" : ex.InnerException?.Message ?? ex.Message,
        var status => $"HTTP {status} instead of a WebSocket",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot push to {Hub}: {Reason}. Retrying.")]
    private static partial void LogConnectFailed(ILogger logger, Uri hub, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pushing camera {Camera} to {Hub}")]
    private static partial void LogConnected(ILogger logger, string camera, Uri hub);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hub says {What}")]
    private static partial void LogDemand(ILogger logger, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Disconnected from {Hub} ({Reason}); {Frames} frames sent in all. Reconnecting.")]
    private static partial void LogDisconnected(ILogger logger, Uri hub, string reason, long frames);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped pushing to {Hub}; {Frames} frames sent in all")]
    private static partial void LogStopped(ILogger logger, Uri hub, long frames);
}
