using System.Globalization;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Browser;

/// <summary>The viewer page opened through a real nginx configured as the README shows (Host $host drops the port).</summary>
[Collection(TimingSensitive.Name)]
public sealed class ReverseProxyPageTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Behind_nginx_with_Host_host_the_page_plays_over_WebSocket()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15");
        var upstream = new Uri(server.BaseUrl).Port.ToString(CultureInfo.InvariantCulture);
        var snippet = ReverseProxy.ReadmeSnippet("nginx");
        Assert.Contains("proxy_set_header Host $host;", snippet);
        await using var nginx = await ReverseProxy.StartNginxAsync(snippet.Replace("127.0.0.1:8080", "127.0.0.1:" + upstream, StringComparison.Ordinal));

        // Chromium's Origin is http://127.0.0.1:PORT; nginx passes "Host: 127.0.0.1" without the port.
        var screen = await ViewerScreen.OpenAsync(chromium, $"http://127.0.0.1:{nginx.Port}");
        await using var page = screen.Page;
        await screen.WaitForStateAsync("live", TimeSpan.FromSeconds(20));
        Assert.Equal("WebSocket", await page.TextAsync("#transportLabel"));
        await ViewerScreen.WaitForServerClientsAsync(server.Http, "websocket+meta", 1);
        await screen.AssertPictureMovesAsync("behind-nginx");
    }
}
