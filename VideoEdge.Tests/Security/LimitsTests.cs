using System.Net;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>--max-clients and --max-clients-per-ip with their defaults (64 and 16), against real viewers.</summary>
public sealed class LimitsTests(ITestOutputHelper output)
{
    /// <summary>Loopback has all of 127.0.0.0/8, so a test can be many client addresses at once.</summary>
    private static IPAddress Address(int last) => IPAddress.Parse("127.0.0." + last);

    [Fact]
    public async Task The_65th_viewer_gets_503_with_Retry_After_and_one_is_admitted_once_another_leaves()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "320x240");
        await server.WaitForFramesAsync();
        var uri = new Uri(server.BaseUrl);
        var viewers = new List<StreamingViewer>();
        try
        {
            // 64 viewers from four addresses (16 each, the per-address default), half of them WebSocket.
            for (var i = 0; i < 64; i++)
            {
                viewers.Add(await StreamingViewer.OpenAsync(uri, Address(11 + i / 16), webSocket: i % 2 == 1));
            }
            Assert.All(viewers, v => Assert.True(v.Head.Status is 200 or 101));
            Assert.Equal(64, server.Camera.Hub.ViewerCount);

            await using (var mjpeg = await StreamingViewer.OpenAsync(uri, Address(15)))
            {
                Assert.Equal(503, mjpeg.Head.Status);
                Assert.Equal("5", mjpeg.Head["Retry-After"]);
                Assert.Equal("application/problem+json", mjpeg.Head["Content-Type"]);
                var problem = JsonDocument.Parse(await mjpeg.Connection.ReadBodyAsync(mjpeg.Head)).RootElement;
                Assert.Equal(503, problem.GetProperty("status").GetInt32());
                Assert.Contains("64 streams", problem.GetProperty("detail").GetString());
            }
            await using (var ws = await StreamingViewer.OpenAsync(uri, Address(15), webSocket: true))
            {
                Assert.Equal(503, ws.Head.Status);
                Assert.Equal("5", ws.Head["Retry-After"]);
            }
            // Snapshots, the state and HEAD are not streams and still work at the limit.
            Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/snapshot.jpg")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/stream.mjpg"))).StatusCode);
            var limits = await LimitsAsync(server);
            output.WriteLine(limits.ToString());
            Assert.Equal(64, limits.GetProperty("maxClients").GetInt32());
            Assert.Equal(64, limits.GetProperty("streams").GetInt32());
            Assert.Equal(2, limits.GetProperty("refused").GetProperty("tooManyClients").GetInt64());
            Assert.Equal(64, server.Camera.Hub.ViewerCount);

            // One leaves abruptly; its slot comes back and the next viewer gets in.
            await viewers[0].ResetAsync();
            viewers.RemoveAt(0);
            await WaitUntilAsync(async () => (await LimitsAsync(server)).GetProperty("streams").GetInt32() == 63, "the slot of the viewer that left was not given back");
            await using (var next = await StreamingViewer.OpenAsync(uri, Address(15)))
            {
                Assert.Equal(200, next.Head.Status);
            }
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.ResetAsync();
            }
        }
        await WaitUntilAsync(async () => (await LimitsAsync(server)).GetProperty("streams").GetInt32() == 0, "streams were not all given back");
        Assert.Equal(0, server.Camera.Hub.ViewerCount);
    }

    [Fact]
    public async Task One_address_may_hold_16_streams_and_others_are_not_affected()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "320x240");
        await server.WaitForFramesAsync();
        var uri = new Uri(server.BaseUrl);
        var greedy = Address(21);
        var viewers = new List<StreamingViewer>();
        try
        {
            for (var i = 0; i < 16; i++)
            {
                viewers.Add(await StreamingViewer.OpenAsync(uri, greedy, webSocket: i % 4 == 0));
            }
            Assert.All(viewers, v => Assert.True(v.Head.Status is 200 or 101));
            await using (var seventeenth = await StreamingViewer.OpenAsync(uri, greedy))
            {
                Assert.Equal(503, seventeenth.Head.Status);
                Assert.NotNull(seventeenth.Head["Retry-After"]);
                var problem = JsonDocument.Parse(await seventeenth.Connection.ReadBodyAsync(seventeenth.Head)).RootElement;
                Assert.Contains("Your address already holds 16 streams", problem.GetProperty("detail").GetString());
            }
            await using (var neighbour = await StreamingViewer.OpenAsync(uri, Address(22)))
            {
                Assert.Equal(200, neighbour.Head.Status);
            }
            var limits = await LimitsAsync(server);
            Assert.Equal(16, limits.GetProperty("maxClientsPerIp").GetInt32());
            Assert.Equal(1, limits.GetProperty("refused").GetProperty("tooManyFromAddress").GetInt64());
            Assert.Equal(0, limits.GetProperty("refused").GetProperty("tooManyClients").GetInt64());
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_limits_are_settings()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "320x240", "--max-clients", "3", "--max-clients-per-ip", "0");
        await server.WaitForFramesAsync();
        var uri = new Uri(server.BaseUrl);
        var viewers = new List<StreamingViewer>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                viewers.Add(await StreamingViewer.OpenAsync(uri));
            }
            await using var fourth = await StreamingViewer.OpenAsync(uri);
            Assert.Equal(503, fourth.Head.Status);
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync();
            }
        }
    }

    private static async Task<JsonElement> LimitsAsync(EdgeTestServer server) =>
        JsonDocument.Parse(await server.Http.GetStringAsync("/api/state")).RootElement.GetProperty("limits");

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50);
        }
    }
}
