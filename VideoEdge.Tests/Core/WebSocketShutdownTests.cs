using System.Net.WebSockets;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

public sealed class WebSocketShutdownTests
{
    [Fact]
    public async Task Stopping_the_server_sends_viewers_a_going_away_close_not_a_reset()
    {
        var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "160x120");
        await using var viewer = await WebSocketViewer.ConnectAsync(new Uri(server.WebSocketBase, "/ws"));
        Assert.NotNull(await viewer.ReadFrameAsync());

        var stopping = server.DisposeAsync().AsTask();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await viewer.ReadFrameAsync(timeout.Token) is not null)
        {
        }
        await stopping;
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, viewer.Socket.CloseStatus);
        Assert.Equal("server stopping", viewer.Socket.CloseStatusDescription);
    }
}
