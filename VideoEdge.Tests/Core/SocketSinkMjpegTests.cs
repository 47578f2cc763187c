using System.Net.Sockets;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.Security;

namespace VideoEdge.Tests.Core;

/// <summary>
/// MJPEG over plain HTTP/1.x is written straight to the viewer's socket, not through Kestrel's
/// response: what a client sees on the wire must still be a complete, well-formed stream.
/// </summary>
public class SocketSinkMjpegTests
{
    private const string Allowed = "https://dashboard.example";

    [Fact]
    public async Task The_head_carries_the_endpoint_and_middleware_headers_and_whole_parts_follow_unchunked()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--allow-origin", Allowed);
        await server.WaitForFramesAsync();
        await using var viewer = await RawConnection.ConnectAsync(new Uri(server.BaseUrl));
        await viewer.SendAsync(RawConnection.Get("/stream.mjpg", extraHeaders: $"Origin: {Allowed}\r\n"));

        var head = await viewer.ReadHeadAsync();
        Assert.Equal(200, head.Status);
        Assert.Equal("multipart/x-mixed-replace;boundary=videoedgeframe", head["Content-Type"]);
        Assert.Contains("no-store", head["Cache-Control"]);
        Assert.Equal("no", head["X-Accel-Buffering"]);
        Assert.Equal(Allowed, head["Access-Control-Allow-Origin"]);
        Assert.Equal("close", head["Connection"]);
        Assert.Null(head["Transfer-Encoding"]);
        Assert.Null(head["Content-Length"]);

        long last = 0;
        for (var i = 0; i < 5; i++)
        {
            var (sequence, length) = await viewer.ReadMjpegPartAsync();
            Assert.True(sequence > last, $"part {i}: sequence {sequence} after {last}");
            Assert.True(length > 1000, $"part {i}: {length} bytes");
            last = sequence;
        }
    }

    [Fact]
    public async Task A_stopping_server_ends_the_stream_with_a_close_not_a_reset()
    {
        var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15");
        await server.WaitForFramesAsync();
        await using var viewer = await RawConnection.ConnectAsync(new Uri(server.BaseUrl));
        await viewer.SendAsync(RawConnection.Get("/stream.mjpg"));
        Assert.Equal(200, (await viewer.ReadHeadAsync()).Status);
        await viewer.ReadMjpegPartAsync();

        await server.DisposeAsync();
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var ended = false;
        while (!ended)
        {
            // A reset would throw SocketException here; the end of a Connection: close body is a plain EOF.
            ended = await viewer.Socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) == 0;
        }
    }
}
