using System.Net.WebSockets;
using System.Text.Json;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>A frame received over WebSocket, with the ?meta=1 header message that preceded it, if any.</summary>
public sealed record WebSocketFrame(byte[] Jpeg, long? Sequence, double? Timestamp, bool NoSignal = false);

/// <summary>A real ClientWebSocket that collects whole binary messages.</summary>
public sealed class WebSocketViewer : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[64 * 1024];

    public ClientWebSocket Socket => _socket;

    public static async Task<WebSocketViewer> ConnectAsync(Uri url, CancellationToken cancellation = default)
    {
        var viewer = new WebSocketViewer();
        await viewer._socket.ConnectAsync(url, cancellation);
        return viewer;
    }

    /// <summary>The next frame; null when the server closed the socket.</summary>
    public async Task<WebSocketFrame?> ReadFrameAsync(CancellationToken cancellation = default)
    {
        long? sequence = null;
        double? timestamp = null;
        var noSignal = false;
        while (true)
        {
            var (type, payload) = await ReadMessageAsync(cancellation);
            if (type == WebSocketMessageType.Close)
            {
                return null;
            }
            if (type == WebSocketMessageType.Text)
            {
                using var doc = JsonDocument.Parse(payload);
                sequence = doc.RootElement.GetProperty("seq").GetInt64();
                timestamp = doc.RootElement.GetProperty("ts").GetDouble();
                noSignal = doc.RootElement.GetProperty("noSignal").GetBoolean();
                continue;
            }
            return new WebSocketFrame(payload, sequence, timestamp, noSignal);
        }
    }

    private async Task<(WebSocketMessageType, byte[])> ReadMessageAsync(CancellationToken cancellation)
    {
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(_buffer, cancellation);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (WebSocketMessageType.Close, []);
            }
            message.Write(_buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        _socket.Dispose();
    }
}
