using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>
/// A bare TCP server that replays a recorded multipart stream byte for byte (headers exactly as
/// given, parts in a loop at a steady rate), so the relay meets other servers' framing unaltered.
/// </summary>
internal sealed class RecordedStreamServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly RecordedStream _stream;
    private readonly string _statusLine;
    private readonly string _contentType;
    private readonly TimeSpan _interval;
    private readonly int? _closeAfterParts;
    private readonly string? _redirectTo;
    private readonly Task _accepting;
    private readonly List<Task> _connections = [];
    private int _connectionCount;

    /// <param name="redirectTo">When set, every path but /stream is answered 302 with this Location.</param>
    public RecordedStreamServer(RecordedStream stream, double fps = 20, int? closeAfterParts = null, string statusLine = "200 OK", string? contentType = null, string? redirectTo = null)
    {
        _redirectTo = redirectTo;
        _stream = stream;
        _statusLine = statusLine;
        _contentType = contentType ?? stream.ContentType;
        _interval = TimeSpan.FromSeconds(1 / fps);
        _closeAfterParts = closeAfterParts;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/stream";

    /// <summary>A path that is answered with the redirect given to the constructor.</summary>
    public string RedirectingUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/old";
    public int Connections => Volatile.Read(ref _connectionCount);

    /// <summary>The request line and headers of the latest connection.</summary>
    public string? LastRequest { get; private set; }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                Interlocked.Increment(ref _connectionCount);
                lock (_connections)
                {
                    _connections.Add(ServeAsync(client));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        var socket = client.GetStream();
        try
        {
            var request = new byte[4096];
            var read = 0;
            while (!Encoding.ASCII.GetString(request, 0, read).Contains("\r\n\r\n"))
            {
                var n = await socket.ReadAsync(request.AsMemory(read), _stop.Token);
                if (n == 0)
                {
                    return;
                }
                read += n;
            }
            LastRequest = Encoding.ASCII.GetString(request, 0, read);
            if (_redirectTo is not null && !LastRequest.StartsWith("GET /stream ", StringComparison.Ordinal))
            {
                await socket.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 302 Found\r\nLocation: {_redirectTo}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), _stop.Token);
                return;
            }
            await socket.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {_statusLine}\r\nContent-Type: {_contentType}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"), _stop.Token);
            await socket.WriteAsync(_stream.Preamble, _stop.Token);
            for (var i = 0; _closeAfterParts is null || i < _closeAfterParts; i++)
            {
                await socket.WriteAsync(_stream.Parts[i % _stream.Parts.Count], _stop.Token);
                await Task.Delay(_interval, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        Task[] running;
        lock (_connections)
        {
            running = [.. _connections];
        }
        await Task.WhenAll(running);
        _stop.Dispose();
    }
}
