using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace VideoEdge.Tests.Browser;

/// <summary>A Chrome DevTools protocol event: its method, the session it belongs to, and its params.</summary>
public sealed record CdpEvent(string Method, string? SessionId, JsonElement Params);

public sealed class CdpException(string message) : Exception(message);

/// <summary>
/// One WebSocket to Chromium's DevTools endpoint, or to Firefox's WebDriver BiDi one (same framing:
/// replies carry the command's id, events a method and params). Commands are matched to replies by id;
/// events go to every listener (listeners run on the reader loop, so they only record and signal).
/// </summary>
public sealed class CdpConnection : IAsyncDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private readonly ClientWebSocket _socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _listenersLock = new();
    private readonly List<Action<CdpEvent>> _listeners = [];
    private Task _reader = Task.CompletedTask;
    private int _nextId;

    public static async Task<CdpConnection> ConnectAsync(Uri endpoint, CancellationToken cancellation)
    {
        var connection = new CdpConnection();
        connection._socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await connection._socket.ConnectAsync(endpoint, cancellation);
        connection._reader = Task.Run(connection.ReadLoopAsync);
        return connection;
    }

    /// <summary>Adds a listener; disposing the result removes it.</summary>
    public IDisposable Listen(Action<CdpEvent> listener)
    {
        lock (_listenersLock)
        {
            _listeners.Add(listener);
        }
        return new Subscription(() =>
        {
            lock (_listenersLock)
            {
                _listeners.Remove(listener);
            }
        });
    }

    /// <summary>Waits for the first event named <paramref name="method"/> in the session that satisfies <paramref name="match"/>.</summary>
    public async Task<JsonElement> WaitForEventAsync(string method, string? sessionId, Func<JsonElement, bool>? match, Task trigger, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (Listen(e =>
        {
            if (e.Method == method && e.SessionId == sessionId && (match is null || match(e.Params)))
            {
                seen.TrySetResult(e.Params);
            }
        }))
        {
            await trigger;
            return await seen.Task.WaitAsync(timeout);
        }
    }

    public async Task<JsonElement> SendAsync(string method, JsonObject? parameters = null, string? sessionId = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        if (sessionId is not null)
        {
            message["sessionId"] = sessionId;
        }
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = reply;
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await _sendLock.WaitAsync(_closing.Token);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, true, _closing.Token);
        }
        finally
        {
            _sendLock.Release();
        }
        try
        {
            return await reply.Task.WaitAsync(CommandTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{method}: no reply from the browser in {CommandTimeout.TotalSeconds} s");
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        try
        {
            while (!_closing.IsCancellationRequested)
            {
                buffer.Clear();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.GetMemory(1 << 16), _closing.Token);
                    buffer.Advance(result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }
                Dispatch(buffer.WrittenSpan);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        foreach (var reply in _pending.Values)
        {
            reply.TrySetException(new CdpException("the DevTools connection closed"));
        }
    }

    private void Dispatch(ReadOnlySpan<byte> json)
    {
        using var document = JsonDocument.Parse(json.ToArray());
        var root = document.RootElement;
        if (root.TryGetProperty("id", out var idElement))
        {
            if (idElement.ValueKind == JsonValueKind.Number && _pending.TryGetValue(idElement.GetInt32(), out var reply))
            {
                if (root.TryGetProperty("error", out var error))
                {
                    // BiDi gives the error's code in "error" and its text beside it in "message".
                    reply.TrySetException(new CdpException(error.GetRawText()
                        + (root.TryGetProperty("message", out var text) ? ": " + text.GetString() : "")));
                }
                else
                {
                    reply.TrySetResult(root.TryGetProperty("result", out var result) ? result.Clone() : default);
                }
            }
            return;
        }
        var evt = new CdpEvent(
            root.GetProperty("method").GetString()!,
            root.TryGetProperty("sessionId", out var session) ? session.GetString() : null,
            root.TryGetProperty("params", out var parameters) ? parameters.Clone() : default);
        Action<CdpEvent>[] listeners;
        lock (_listenersLock)
        {
            listeners = [.. _listeners];
        }
        foreach (var listener in listeners)
        {
            listener(evt);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        try
        {
            await _reader;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        _socket.Dispose();
        _closing.Dispose();
        _sendLock.Dispose();
    }

    private sealed class Subscription(Action remove) : IDisposable
    {
        public void Dispose() => remove();
    }
}
