using System.Text.Json.Nodes;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// The viewer page over HTTPS with a self-signed certificate. Chromium then talks HTTP/2 to
/// Kestrel and opens the page's WebSocket as an HTTP/2 extended CONNECT (RFC 8441), not as a GET
/// upgrade; a server that answers that with 405 leaves the page looping "reconnecting".
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class HttpsViewerTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task Over_HTTPS_the_page_plays_live_over_a_WebSocket_on_HTTP2()
    {
        using var certificate = new TestCertificate();
        await using var server = await EdgeTestServer.StartAsync(["--source", "test", "--fps", "15", .. certificate.ServerArgs]);
        Assert.StartsWith("https://", server.BaseUrl);
        // Without ?adapt=1 this viewer stays on the camera's own hub, so the test can follow it there.
        var screen = await ViewerScreen.OpenAsync(chromium, server.BaseUrl, "#adapt=0",
            before: p => p.SendAsync("Security.setIgnoreCertificateErrors", new JsonObject { ["ignore"] = true }));
        await using var page = screen.Page;

        await screen.WaitForStateAsync("live", TimeSpan.FromSeconds(20));
        Assert.Equal("h2", (await page.EvaluateAsync("performance.getEntriesByType('navigation')[0].nextHopProtocol")).GetString());
        Assert.Equal("WebSocket", await page.TextAsync("#transportLabel"));
        await screen.AssertPictureMovesAsync("viewer-https-h2");

        // Live and staying live: the server keeps sending this viewer frames, the page counts them, and never reconnects.
        var viewer = server.Camera.Hub.Viewers.Select(v => v.Client).Single(c => c.Transport == "websocket+meta");
        var sentBefore = viewer.FramesSent;
        for (var i = 0; i < 4; i++)
        {
            await Task.Delay(1000);
            Assert.Equal("live", await screen.StateAsync());
        }
        Assert.InRange(await screen.FpsAsync(), 15 * 0.5, 15 * 1.2);
        Assert.True(viewer.FramesSent - sentBefore >= 30, $"the server sent the page only {viewer.FramesSent - sentBefore} frames in 4 s");
        Assert.Same(viewer, server.Camera.Hub.Viewers.Select(v => v.Client).Single());
        Assert.Empty(page.Errors);
    }
}
