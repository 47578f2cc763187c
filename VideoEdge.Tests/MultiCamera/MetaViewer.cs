using System.Net.WebSockets;
using System.Text.Json;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>A frame as /ws?meta=1 describes it, including whether it is the no-signal picture.</summary>
public sealed record MetaFrame(byte[] Jpeg, long Sequence, bool NoSignal, DateTime ReceivedUtc);

/// <summary>A WebSocket viewer on /ws?meta=1 that keeps the per-frame metadata the page uses.</summary>
public sealed class MetaViewer : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _buffer = new byte[64 * 1024];

    public static async Task<MetaViewer> ConnectAsync(Uri baseUri, string camera)
    {
        var viewer = new MetaViewer();
        await viewer._socket.ConnectAsync(new Uri(baseUri, $"/cams/{camera}/ws?meta=1"), CancellationToken.None);
        return viewer;
    }

    public async Task<MetaFrame> ReadAsync(CancellationToken cancellation)
    {
        var (type, meta) = await ReadMessageAsync(cancellation);
        Assert.Equal(WebSocketMessageType.Text, type);
        var (binary, jpeg) = await ReadMessageAsync(cancellation);
        Assert.Equal(WebSocketMessageType.Binary, binary);
        using var doc = JsonDocument.Parse(meta);
        return new MetaFrame(jpeg, doc.RootElement.GetProperty("seq").GetInt64(), doc.RootElement.GetProperty("noSignal").GetBoolean(), DateTime.UtcNow);
    }

    /// <summary>Reads until a frame matches, within <paramref name="seconds"/>.</summary>
    public async Task<MetaFrame> ReadUntilAsync(Func<MetaFrame, bool> match, double seconds)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            var frame = await ReadAsync(timeout.Token);
            if (match(frame))
            {
                return frame;
            }
        }
    }

    private async Task<(WebSocketMessageType, byte[])> ReadMessageAsync(CancellationToken cancellation)
    {
        using var message = new MemoryStream();
        while (true)
        {
            var result = await _socket.ReceiveAsync(_buffer, cancellation);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
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
