using System.Net;

namespace VideoEdge.Tests.Security;

/// <summary>
/// A real viewer on a raw socket that keeps reading in the background (so the server never has
/// to time it out) until it is disposed or reset. Cheap enough to open by the hundred.
/// </summary>
internal sealed class StreamingViewer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _drain;
    private long _bytes;

    private StreamingViewer(RawConnection connection, RawResponseHead head)
    {
        Connection = connection;
        Head = head;
        _drain = head.Status is 200 or 101 ? Task.Run(DrainAsync) : Task.CompletedTask;
    }

    public RawConnection Connection { get; }
    public RawResponseHead Head { get; }
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>True when the server ended the stream (FIN or reset) while we were reading.</summary>
    public bool ServerClosed { get; private set; }

    /// <summary>Opens /stream.mjpg (or a WebSocket when <paramref name="webSocket"/>) and reads the first frame before returning.</summary>
    public static async Task<StreamingViewer> OpenAsync(Uri server, IPAddress? from = null, bool webSocket = false, string query = "", string extraHeaders = "")
    {
        var connection = await RawConnection.ConnectAsync(server, from);
        try
        {
            RawResponseHead head;
            if (webSocket)
            {
                head = await connection.WebSocketHandshakeAsync("/ws" + query, extraHeaders);
                if (head.Status == 101)
                {
                    Assert.NotNull(await connection.ReadWebSocketJpegAsync());
                }
            }
            else
            {
                await connection.SendAsync(RawConnection.Get("/stream.mjpg" + query, extraHeaders: extraHeaders));
                head = await connection.ReadHeadAsync();
                if (head.Status == 200)
                {
                    await connection.ReadMjpegPartAsync();
                }
            }
            return new StreamingViewer(connection, head);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                Interlocked.Add(ref _bytes, await Connection.ReadSomeAsync(64 * 1024, _stop.Token));
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is EndOfStreamException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            ServerClosed = true;
        }
    }

    /// <summary>Waits until the server has ended this stream; false if it is still open after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitForServerCloseAsync(TimeSpan timeout)
    {
        await Task.WhenAny(_drain, Task.Delay(timeout));
        return _drain.IsCompleted && ServerClosed;
    }

    /// <summary>Ends the stream abruptly with a TCP reset.</summary>
    public async Task ResetAsync()
    {
        await _stop.CancelAsync();
        await _drain;
        Connection.Reset();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _drain;
        await Connection.DisposeAsync();
        _stop.Dispose();
    }
}
