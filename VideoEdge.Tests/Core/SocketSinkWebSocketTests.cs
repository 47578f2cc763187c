using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

/// <summary>
/// WebSocket viewers on plain HTTP/1.1 are written straight to their socket, not through the
/// framework's WebSocket: a real client must still get every picture whole and byte for byte.
/// </summary>
public sealed class SocketSinkWebSocketTests
{
    [Fact]
    public async Task A_ClientWebSocket_gets_the_same_bytes_as_an_MJPEG_viewer_of_the_same_frames()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "640x480");
        await server.WaitForFramesAsync();
        await using var mjpeg = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg");
        await using var ws = await WebSocketViewer.ConnectAsync(new Uri(server.WebSocketBase, "/ws?meta=1"));

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var parts = new Dictionary<long, byte[]>();
        var reading = Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                var part = await mjpeg.ReadPartAsync(timeout.Token);
                parts[part.Sequence] = part.Body;
            }
        });
        var frames = new Dictionary<long, byte[]>();
        for (var i = 0; i < 30; i++)
        {
            var frame = await ws.ReadFrameAsync(timeout.Token);
            Assert.NotNull(frame);
            Assert.NotNull(frame.Sequence);
            Assert.True(Jpeg.HasMarkers(frame.Jpeg), $"frame {frame.Sequence} is not a whole JPEG");
            frames[frame.Sequence.Value] = frame.Jpeg;
        }
        await reading;

        var common = frames.Keys.Intersect(parts.Keys).ToList();
        Assert.True(common.Count >= 10, $"only {common.Count} frames seen by both viewers");
        foreach (var sequence in common)
        {
            Assert.True(frames[sequence].AsSpan().SequenceEqual(parts[sequence]), $"frame {sequence} differs between WebSocket and MJPEG");
        }
    }
}
