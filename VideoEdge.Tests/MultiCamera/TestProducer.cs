using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>
/// A hand-driven producer on /cams/NAME/ingest: sends whatever the test gives it and records every
/// control message the hub sends, and how the hub closed the connection.
/// </summary>
public sealed class TestProducer : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Channel<string> _control = Channel.CreateUnbounded<string>();
    private readonly Task _receiving;

    private TestProducer(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = ReceiveAsync();
    }

    public ClientWebSocket Socket => _socket;

    /// <summary>Set once the hub closed the connection (null if it dropped it without a close).</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }
    public Task Closed => _receiving;

    public static async Task<TestProducer> ConnectAsync(Uri hub, string camera, string? token, bool asQuery = false)
    {
        var socket = NewSocket(token, asQuery);
        await socket.ConnectAsync(IngestUri(hub, camera, token, asQuery), CancellationToken.None);
        return new TestProducer(socket);
    }

    /// <summary>The HTTP status the hub answered a connection attempt with (it did not become a WebSocket).</summary>
    public static async Task<HttpStatusCode> RejectionAsync(Uri hub, string camera, string? token, bool asQuery = false)
    {
        using var socket = NewSocket(token, asQuery);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(IngestUri(hub, camera, token, asQuery), CancellationToken.None));
        return socket.HttpStatusCode;
    }

    private static ClientWebSocket NewSocket(string? token, bool asQuery)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (token is not null && !asQuery)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        }
        return socket;
    }

    private static Uri IngestUri(Uri hub, string camera, string? token, bool asQuery) =>
        new(hub, $"/cams/{camera}/ingest" + (asQuery ? "?token=" + Uri.EscapeDataString(token ?? "") : ""));

    public Task SendAsync(byte[] message, WebSocketMessageType type = WebSocketMessageType.Binary) =>
        _socket.SendAsync(message, type, true, CancellationToken.None);

    /// <summary>The next control message, or null if none comes within <paramref name="seconds"/>.</summary>
    public async Task<string?> NextControlAsync(double seconds)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            return await _control.Reader.ReadAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            return null;
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = result.CloseStatus;
                    return;
                }
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    _control.Writer.TryWrite(Encoding.UTF8.GetString(buffer, 0, result.Count));
                }
            }
        }
        catch (WebSocketException)
        {
        }
        finally
        {
            _control.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }
        await Task.WhenAny(_receiving, Task.Delay(2000));
        _socket.Dispose();
    }
}
