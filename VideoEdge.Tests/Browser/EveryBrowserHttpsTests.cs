using System.Globalization;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// HTTPS with a self-signed certificate, in every browser: Chromium then opens the page's WebSocket as
/// an HTTP/2 extended CONNECT (RFC 8441), which the server once refused with 405, and both transports
/// share one HTTP/2 connection. Run alone (timing-sensitive collection): in the parallel phase, beside
/// the two AOT publishes and five other tests, Chromium's MJPEG tab went 10 s without a frame in three
/// of six full runs (load average 20–38); whether the browser or the in-process server was starved of
/// CPU was not found out. Alone it passed every time.
/// </summary>
public abstract class EveryBrowserHttpsTests(IBrowserFixture browser)
{
    [Fact]
    public async Task Over_HTTPS_the_page_plays_live_over_both_transports()
    {
        using var certificate = new TestCertificate();
        await using var server = await EdgeTestServer.StartAsync(["--source", "test", "--fps", EveryBrowserViewerTests.SourceFps.ToString(CultureInfo.InvariantCulture), .. certificate.ServerArgs]);
        Assert.StartsWith("https://", server.BaseUrl);
        await EveryBrowserViewerTests.WatchBothTransportsAsync(browser, server, server.BaseUrl, "https");
    }
}

[Collection(TimingSensitive.Name)]
public sealed class ChromiumHttpsTests(ChromiumFixture chromium) : EveryBrowserHttpsTests(chromium), IClassFixture<ChromiumFixture>;

[Collection(TimingSensitive.Name)]
public sealed class FirefoxHttpsTests(FirefoxFixture firefox) : EveryBrowserHttpsTests(firefox), IClassFixture<FirefoxFixture>;
