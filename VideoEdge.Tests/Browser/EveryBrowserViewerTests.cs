using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// The viewer page's basics in every browser the tests can drive: each derived class runs these
/// against its own engine. Loose timing bounds (not in the timing-sensitive collection): they ask
/// whether the page plays at all and keeps playing, not how smoothly.
/// </summary>
public abstract partial class EveryBrowserViewerTests(IBrowserFixture browser)
{
    internal const double SourceFps = 15;
    internal static readonly TimeSpan LiveTimeout = TimeSpan.FromSeconds(30);
    /// <summary>Longer than the page's MJPEG watchdog (10 s) twice over, so a page that cannot see frames is caught.</summary>
    private static readonly TimeSpan Watch = TimeSpan.FromSeconds(30);

    /// <summary>The transport the page picks when the URL does not say: WebSocket in Chromium (its MJPEG shows each part a frame late), MJPEG elsewhere.</summary>
    protected abstract string DefaultTransport { get; }

    [Fact]
    public async Task The_page_plays_live_over_its_default_transport_and_the_other_one_for_half_a_minute()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", SourceFps.ToString(CultureInfo.InvariantCulture));
        var other = DefaultTransport == "ws" ? "mjpeg" : "ws";
        // Two windows side by side, one as a user opens the page and one on the other transport.
        var byDefault = await ViewerScreen.OpenAsync(browser, server.BaseUrl);
        await using var defaultTab = byDefault.Tab;
        var switched = await ViewerScreen.OpenAsync(browser, server.BaseUrl, "#transport=" + other);
        await using var otherTab = switched.Tab;
        var screens = new[] { (Name: DefaultTransport, Screen: byDefault), (Name: other, Screen: switched) };
        foreach (var (name, screen) in screens)
        {
            await screen.WaitForStateAsync("live", LiveTimeout);
            Assert.Equal(Label(name), await screen.Tab.TextAsync("#transportLabel"));
        }
        await WaitForServerViewersAsync(server.Http, ["mjpeg", "websocket+meta"]);

        // Watch both for longer than the watchdog: always live, never "reconnecting", frames counted.
        var clock = Stopwatch.StartNew();
        var readings = screens.ToDictionary(s => s.Name, _ => new List<double>());
        while (clock.Elapsed < Watch)
        {
            foreach (var (name, screen) in screens)
            {
                var shown = await screen.StateAsync();
                Assert.True(shown == "live",
                    $"{browser.Engine} {name}: '{shown}' after {clock.Elapsed.TotalSeconds:0} s live ({await screen.Tab.TextAsync("#banner")}); fps so far: {string.Join(" ", readings[name])}");
                readings[name].Add(await screen.FpsAsync());
            }
            await Task.Delay(1000);
        }
        foreach (var (name, screen) in screens)
        {
            var fps = readings[name];
            // Every reading but a stalled moment on a loaded machine shows frames, and on average no more than the source sends.
            var readout = $"{browser.Engine} {name}: fps readings {string.Join(" ", fps)}";
            Assert.True(fps.Count(f => f > 0) >= fps.Count * 0.8, readout);
            Assert.True(fps.Average() is >= SourceFps * 0.3 and <= SourceFps * 1.3, readout);
            await screen.AssertPictureMovesAsync($"{browser.Engine}-{name}-after-half-a-minute");
        }
        // The same two viewers throughout: the page never dropped and reopened its stream.
        using var state = JsonDocument.Parse(await server.Http.GetStringAsync("/api/state"));
        var clients = state.RootElement.GetProperty("clients").EnumerateArray().ToArray();
        Assert.Equal(2, clients.Length);
        foreach (var client in clients)
        {
            var since = DateTimeOffset.Parse(client.GetProperty("connectedSince").GetString()!, CultureInfo.InvariantCulture);
            Assert.True(DateTimeOffset.UtcNow - since > Watch, $"{browser.Engine}: {client.GetProperty("transport")} viewer connected only at {since:O}");
        }
        Assert.Empty(defaultTab.Errors);
        Assert.Empty(otherTab.Errors);
    }

    /// <summary>nginx configured as the README shows: "proxy_set_header Host $host" drops the port the browser's Origin has.</summary>
    [Fact]
    public async Task Behind_nginx_with_Host_host_the_page_plays_live_over_both_transports()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", SourceFps.ToString(CultureInfo.InvariantCulture));
        var snippet = ReverseProxy.ReadmeSnippet("nginx");
        Assert.Contains("proxy_set_header Host $host;", snippet);
        var upstream = new Uri(server.BaseUrl).Port.ToString(CultureInfo.InvariantCulture);
        await using var nginx = await ReverseProxy.StartNginxAsync(snippet.Replace("127.0.0.1:8080", "127.0.0.1:" + upstream, StringComparison.Ordinal));
        await WatchBothTransportsAsync(browser, server, $"http://127.0.0.1:{nginx.Port}", "nginx");
    }

    /// <summary>
    /// Status polls that fail while the MJPEG picture keeps coming (a proxy's hiccup, a server too busy
    /// to answer one poll) leave the stream playing: the picture itself shows the server is there. The
    /// status panel says its figures are stale.
    /// </summary>
    [Fact]
    public async Task Failing_status_polls_do_not_drop_an_MJPEG_stream_that_plays()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", SourceFps.ToString(CultureInfo.InvariantCulture));
        var upstream = new Uri(server.BaseUrl).Port.ToString(CultureInfo.InvariantCulture);
        var snippet = ReverseProxy.ReadmeSnippet("nginx").Replace("127.0.0.1:8080", "127.0.0.1:" + upstream, StringComparison.Ordinal);
        // Every status request (/api/state, /cams/NAME/state) fails at the proxy; everything else passes.
        await using var nginx = await ReverseProxy.StartNginxAsync("location ~ /state$ { return 503; }\n" + snippet);
        var screen = await ViewerScreen.OpenAsync(browser, $"http://127.0.0.1:{nginx.Port}", "#transport=mjpeg");
        await using var tab = screen.Tab;
        await screen.WaitForStateAsync("live", LiveTimeout);
        var clock = Stopwatch.StartNew();
        var fps = new List<double>();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            var shown = await screen.StateAsync();
            Assert.True(shown == "live", $"{browser.Engine}: '{shown}' after {clock.Elapsed.TotalSeconds:0} s of failing polls ({await tab.TextAsync("#banner")})");
            fps.Add(await screen.FpsAsync());
            await Task.Delay(1000);
        }
        Assert.True(fps.Count(f => f > 0) >= fps.Count * 0.7, $"{browser.Engine}: fps readings {string.Join(" ", fps)}");
        Assert.StartsWith("Server unreachable since", await tab.TextAsync("#staleNote"));
        await screen.AssertPictureMovesAsync($"{browser.Engine}-failing-polls");
    }

    /// <summary>Opens the page on both transports and watches both past the MJPEG watchdog: live all along, frames counted, the picture moving.</summary>
    internal static async Task WatchBothTransportsAsync(IBrowserFixture browser, EdgeTestServer server, string pageUrl, string label)
    {
        var screens = new List<(string Name, ViewerScreen Screen)>();
        try
        {
            foreach (var transport in new[] { "ws", "mjpeg" })
            {
                var screen = await ViewerScreen.OpenAsync(browser, pageUrl, "#transport=" + transport);
                screens.Add((transport, screen));
                await screen.WaitForStateAsync("live", LiveTimeout);
                Assert.Equal(Label(transport), await screen.Tab.TextAsync("#transportLabel"));
            }
            // Read in process: the test's HttpClient does not trust the self-signed certificate.
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (!ViewerTransports(server.Camera).Order().SequenceEqual(["mjpeg", "websocket+meta"]))
            {
                Assert.True(DateTime.UtcNow < deadline, $"{browser.Engine} {label}: the server has viewers {string.Join(", ", ViewerTransports(server.Camera))}");
                await Task.Delay(100);
            }
            var readings = screens.ToDictionary(s => s.Name, _ => new List<double>());
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(12))
            {
                foreach (var (name, screen) in screens)
                {
                    var shown = await screen.StateAsync();
                    Assert.True(shown == "live", $"{browser.Engine} {label} {name}: '{shown}' after {clock.Elapsed.TotalSeconds:0} s ({await screen.Tab.TextAsync("#banner")})");
                    readings[name].Add(await screen.FpsAsync());
                }
                await Task.Delay(1000);
            }
            foreach (var (name, screen) in screens)
            {
                Assert.True(readings[name].Count(f => f > 0) >= readings[name].Count * 0.7, $"{browser.Engine} {label} {name}: fps readings {string.Join(" ", readings[name])}");
                await screen.AssertPictureMovesAsync($"{browser.Engine}-{label}-{name}");
                Assert.Empty(screen.Tab.Errors);
            }
        }
        finally
        {
            foreach (var (_, screen) in screens)
            {
                await screen.Tab.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_status_panel_lists_the_camera_and_viewer_and_the_snapshot_button_saves_a_JPEG()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", SourceFps.ToString(CultureInfo.InvariantCulture));
        var screen = await ViewerScreen.OpenAsync(browser, server.BaseUrl);
        await using var tab = screen.Tab;
        await screen.WaitForStateAsync("live", LiveTimeout);
        var viewer = DefaultTransport == "ws" ? "websocket+meta" : "mjpeg";
        await tab.WaitForAsync($"document.getElementById('sourceList').textContent.includes('test · test pattern') && document.getElementById('clients').textContent.includes('{viewer}')",
            TimeSpan.FromSeconds(15), "the camera and this viewer in the status panel", "document.getElementById('status').innerText");
        await screen.WaitForResolutionAsync("640×480");

        await tab.EvaluateAsync("document.getElementById('snapshot').click()");
        await tab.WaitForAsync("document.getElementById('toast').textContent.startsWith('Saved ')", TimeSpan.FromSeconds(15), "the snapshot's toast",
            "document.getElementById('toast').textContent");
        var name = (await tab.TextAsync("#toast"))["Saved ".Length..];
        Assert.Matches(SnapshotName(), name);
        // The browser writes the file after the toast; wait until it is a whole JPEG.
        var path = Path.Combine(browser.Downloads, name);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!(File.Exists(path) && Jpeg.HasMarkers(await File.ReadAllBytesAsync(path))))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{browser.Engine}: {path} was not saved; in the folder: {string.Join(", ", Directory.GetFiles(browser.Downloads).Select(Path.GetFileName))}");
            await Task.Delay(200);
        }
        Assert.Equal((640, 480), Jpeg.Decode(await File.ReadAllBytesAsync(path)));
        Assert.Empty(tab.Errors);
    }

    [Fact]
    public async Task Stopping_the_server_shows_reconnecting_and_a_restart_resumes_on_the_default_transport()
    {
        var listen = "127.0.0.1:" + FreePort();
        var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--listen", listen);
        EdgeTestServer? restarted = null;
        try
        {
            var screen = await ViewerScreen.OpenAsync(browser, server.BaseUrl);
            await using var tab = screen.Tab;
            await screen.WaitForStateAsync("live", LiveTimeout);
            await tab.EvaluateAsync("window.__sameDocument = 'yes'");

            await server.DisposeAsync();
            server = null;
            // The status polls fail at once; the watchdog would notice after 10 s (MJPEG) or 5 s.
            await screen.WaitForStateAsync("reconnecting", TimeSpan.FromSeconds(20));
            Assert.StartsWith("Stream lost", await tab.TextAsync("#banner"));

            restarted = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--listen", listen);
            // Backoff is capped at 8 s (±20%).
            await screen.WaitForStateAsync("live", LiveTimeout);
            Assert.Equal("yes", (await tab.EvaluateAsync("window.__sameDocument")).GetString());
            await screen.AssertPictureMovesAsync($"{browser.Engine}-restart-resumed");
            // Only the refused connections while the server was down, as each browser words them.
            Assert.All(tab.Errors, e => Assert.Matches("ERR_CONNECTION_REFUSED|can’t establish a connection", e));
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }
    }

    /// <summary>The camera's viewers: on its own hub, or (the page asks for ?adapt=1) on one of its variants' hubs.</summary>
    private static IEnumerable<string> ViewerTransports(VideoEdge.Cameras.Camera camera) =>
        camera.Hub.Viewers.Select(v => v.Client.Transport).Where(t => t != VideoEdge.Variants.Variant.FeedTransport)
            .Concat(camera.Variants.Active.SelectMany(v => v.Hub.Viewers.Select(w => w.Client.Transport)));

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static string Label(string transport) => transport == "ws" ? "WebSocket" : "MJPEG";

    private static async Task WaitForServerViewersAsync(HttpClient http, string[] transports)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var clients = await ViewerScreen.ServerClientsAsync(http);
            if (clients.Select(c => c.Transport).Order().SequenceEqual(transports.Order()))
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, $"expected viewers {string.Join(", ", transports)}, the server has: {string.Join(", ", clients.Select(c => c.Transport))}");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"^videoedge-main-\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}\.\d{3}Z\.jpg$")]
    private static partial Regex SnapshotName();
}

[LongRunning(90)]
public sealed class FirefoxViewerTests(FirefoxFixture firefox) : EveryBrowserViewerTests(firefox), IClassFixture<FirefoxFixture>
{
    protected override string DefaultTransport => "mjpeg";
}

[LongRunning(70)]
public sealed class ChromiumViewerTests(ChromiumFixture chromium) : EveryBrowserViewerTests(chromium), IClassFixture<ChromiumFixture>
{
    protected override string DefaultTransport => "ws";
}
