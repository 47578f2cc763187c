using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

/// <summary>
/// Network URLs are read by the ffmpeg program: here another VideoEdge's MJPEG stream over http://,
/// which ffmpeg decodes and re-encodes, and the reconnection when that upstream goes away and returns.
/// </summary>
public sealed class NetworkSourceTests
{
    [Fact]
    public async Task An_http_stream_is_served_and_survives_the_upstream_restarting()
    {
        var port = FreePort();
        var upstreamArgs = new[] { "--source", "test", "--fps", "10", "--resolution", "320x240", "--listen", $"127.0.0.1:{port}" };
        var upstream = await EdgeTestServer.StartAsync(upstreamArgs);
        await using var server = await EdgeTestServer.StartAsync("--source", $"http://viewer:secret@127.0.0.1:{port}/stream.mjpg", "--fps", "10");

        await WaitForStateAsync(server, s => s.GetProperty("online").GetBoolean() && s.GetProperty("width").GetInt32() == 320, "online at 320x240");
        var jpeg = await server.Http.GetByteArrayAsync("/snapshot.jpg?fresh=1");
        Assert.Equal((320, 240), Jpeg.Decode(jpeg));
        using (var state = JsonDocument.Parse(await server.Http.GetStringAsync("/api/state")))
        {
            var source = state.RootElement.GetProperty("source");
            Assert.Equal("url", source.GetProperty("kind").GetString());
            Assert.DoesNotContain("secret", source.GetProperty("description").GetString());
        }

        // The upstream goes away: viewers of this server get the no-signal picture and stay connected.
        await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg");
        await upstream.DisposeAsync();
        await WaitForStateAsync(server, s => !s.GetProperty("online").GetBoolean(), "offline after the upstream stopped");

        // It comes back on the same address: live frames resume without the viewer reconnecting.
        await using var again = await EdgeTestServer.StartAsync(upstreamArgs);
        await WaitForStateAsync(server, s => s.GetProperty("online").GetBoolean(), "online again", TimeSpan.FromSeconds(30));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var part = await viewer.ReadPartAsync(timeout.Token);
        Assert.True(Jpeg.HasMarkers(part.Body));
    }

    [Fact]
    public async Task An_unreachable_url_is_offline_with_the_reason_and_the_server_keeps_serving()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", $"rtsp://127.0.0.1:{FreePort()}/live", "--resolution", "320x240");
        await WaitForStateAsync(server, s => s.GetProperty("offlineReason").GetString() is { Length: > 0 } r && r != "starting", "an offline reason");
        var jpeg = await server.Http.GetByteArrayAsync("/snapshot.jpg");
        Assert.Equal((320, 240), Jpeg.Decode(jpeg));
    }

    private static async Task WaitForStateAsync(EdgeTestServer server, Func<JsonElement, bool> condition, string what, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(20));
        string last = "";
        while (DateTime.UtcNow < deadline)
        {
            last = await server.Http.GetStringAsync("/api/state");
            using var state = JsonDocument.Parse(last);
            if (condition(state.RootElement.GetProperty("source")))
            {
                return;
            }
            await Task.Delay(200);
        }
        Assert.Fail($"source never {what}; last state: {last}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
