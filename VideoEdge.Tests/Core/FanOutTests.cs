using System.Net.Sockets;
using System.Text;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

/// <summary>
/// The regression tests for "frames split between viewers": every viewer gets every frame the
/// source produced while it watched, over MJPEG, WebSocket and both at once.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class FanOutTests
{
    // Low enough that a viewer would have to stall for 125 ms to miss one: the assertions are about
    // fan-out (no frame split between viewers, none lost to another's slowness), not about speed.
    private const int Fps = 8;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1.5);

    [Theory]
    [InlineData(2, 0)]
    [InlineData(10, 0)]
    [InlineData(0, 4)]
    [InlineData(3, 3)]
    public async Task Every_viewer_receives_every_frame(int mjpegViewers, int webSocketViewers)
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", Fps.ToString(), "--resolution", "320x240");
        await server.WaitForFramesAsync(2);

        using var stop = new CancellationTokenSource();
        var mjpeg = Enumerable.Range(0, mjpegViewers).Select(_ => CollectMjpegAsync(server.BaseUrl + "/stream.mjpg", stop.Token)).ToList();
        var ws = Enumerable.Range(0, webSocketViewers).Select(_ => CollectWebSocketAsync(new Uri(server.WebSocketBase, "/ws?meta=1"), stop.Token)).ToList();
        // Judge only frames published after every viewer is connected and warmed up (the first
        // connection in a test process pays for JIT; the AOT binary does not).
        await Task.Delay(WarmUp);
        var from = server.Camera.Hub.LatestSequence + 1;
        await Task.Delay(Window);
        var to = server.Camera.Hub.LatestSequence;
        await Task.Delay(300);
        stop.Cancel();
        var all = (await Task.WhenAll(mjpeg.Concat(ws))).Select(s => s.Where(x => x >= from && x <= to).ToList()).ToList();

        foreach (var sequences in all)
        {
            Assert.True(sequences.Count >= Window.TotalSeconds * Fps * 0.5, $"only {sequences.Count} frames in {Window.TotalSeconds} s at {Fps} fps");
            for (var i = 1; i < sequences.Count; i++)
            {
                Assert.True(sequences[i] == sequences[i - 1] + 1, $"gap: frame {sequences[i - 1]} then {sequences[i]} (viewer got {sequences.Count} frames)");
            }
        }
        // Not split between viewers: each one got every frame published in the window.
        foreach (var sequences in all)
        {
            Assert.Equal(from, sequences[0]);
            Assert.Equal(to, sequences[^1]);
        }
    }

    [Fact]
    public async Task Each_part_is_a_decodable_jpeg_of_the_configured_size_with_headers()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "352x288");
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg");
        Assert.Contains("no-store", client.ResponseHeaders.CacheControl!.ToString());
        for (var i = 0; i < 5; i++)
        {
            var part = await client.ReadPartAsync();
            Assert.Equal("image/jpeg", part.Headers["Content-Type"]);
            Assert.True(Jpeg.HasMarkers(part.Body));
            Assert.Equal((352, 288), Jpeg.Decode(part.Body));
            var age = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - part.Timestamp;
            Assert.InRange(age, -1, 5);
        }
    }

    [Fact]
    public async Task Fps_cap_limits_one_viewer_without_slowing_another()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "20", "--resolution", "320x240");
        await server.WaitForFramesAsync(2);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var capped = CollectMjpegAsync(server.BaseUrl + "/stream.mjpg?fps=4", stop.Token);
        var full = CollectMjpegAsync(server.BaseUrl + "/stream.mjpg", stop.Token);
        var (cappedFrames, fullFrames) = (await capped, await full);
        Assert.InRange(cappedFrames.Count, 6, 16);
        Assert.True(fullFrames.Count >= 40, $"uncapped viewer got {fullFrames.Count} frames in 3 s at 20 fps");
    }

    [Fact]
    public async Task A_viewer_that_stops_reading_does_not_slow_others_and_is_dropped_after_the_send_deadline()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", Fps.ToString(), "--resolution", "640x480", "--quality", "95", "--send-timeout", "2");
        await server.WaitForFramesAsync(2);
        var uri = new Uri(server.BaseUrl);

        // A tiny receive window makes the stalled viewer's buffers fill in moments instead of megabytes.
        using var stalled = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
        await stalled.ConnectAsync(uri.Host, uri.Port);
        await stalled.SendAsync(Encoding.ASCII.GetBytes($"GET /stream.mjpg HTTP/1.1\r\nHost: {uri.Authority}\r\n\r\n"));

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(6.5));
        var collecting = CollectMjpegAsync(server.BaseUrl + "/stream.mjpg", stop.Token);
        await Task.Delay(WarmUp);
        var from = server.Camera.Hub.LatestSequence + 1;
        await Task.Delay(TimeSpan.FromSeconds(4.5));
        var to = server.Camera.Hub.LatestSequence;
        var fast = (await collecting).Where(x => x >= from && x <= to).ToList();
        // Every frame published while the stalled viewer filled its buffers and was cut off.
        Assert.Equal(Enumerable.Range(0, (int)(to - from + 1)).Select(i => from + i), fast);

        // The stalled one is cut off (send deadline 2 s once its buffers are full): the hub no longer
        // lists it and the server closed its socket.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (server.Camera.Hub.ViewerCount > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.Equal(0, server.Camera.Hub.ViewerCount);
        var drained = 0;
        var buffer = new byte[65536];
        using var readTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        try
        {
            while ((n = await stalled.ReceiveAsync(buffer, readTimeout.Token)) > 0)
            {
                drained += n;
            }
        }
        catch (SocketException)
        {
            // Reset by the server's abort: also a disconnect.
        }
        Assert.True(drained > 0);
        Assert.Equal(1, server.Camera.Pool.Outstanding);
    }

    internal static async Task<List<long>> CollectMjpegAsync(string url, CancellationToken stop)
    {
        var sequences = new List<long>();
        await using var client = await MjpegClient.ConnectAsync(url);
        try
        {
            while (true)
            {
                sequences.Add((await client.ReadPartAsync(stop)).Sequence);
            }
        }
        catch (OperationCanceledException)
        {
        }
        return sequences;
    }

    internal static async Task<List<long>> CollectWebSocketAsync(Uri url, CancellationToken stop)
    {
        var sequences = new List<long>();
        await using var viewer = await WebSocketViewer.ConnectAsync(url);
        try
        {
            while (await viewer.ReadFrameAsync(stop) is { } frame)
            {
                Assert.True(Jpeg.HasMarkers(frame.Jpeg));
                sequences.Add(frame.Sequence!.Value);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
        }
        return sequences;
    }
}
