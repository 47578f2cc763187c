using System.Globalization;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.SlowLink;

/// <summary>
/// Viewers behind a real bottleneck (issue 14): two network namespaces, a veth pair and tc tbf on the
/// server's end. The server listens on the link's host address and on loopback; the slow viewer runs
/// in the viewer's namespace, a fast viewer in the root namespace comes over loopback. 720p frames of ~100 KB
/// (test pattern at quality 95), so at 160 kbit/s (20 KB/s) one frame takes ~5 s on the wire.
/// Timing bounds are generous: the figures belong in the bench (BENCHMARKS.md, issue 14). What they
/// wait for is the link, not the CPU, so they run beside the other collections (in two classes, this
/// and <see cref="SlowLinkSmallFrameTests"/>, so two links at a time); the one that counts a fast
/// viewer's every frame is in the timing-sensitive collection.
/// </summary>
[LongRunning(90)]
public sealed class SlowLinkTests
{
    internal const int SlowBytesPerSecond = 20_000;

    /// <summary>A server listening on loopback (<see cref="EdgeTestServer.BaseUrl"/>) and on the link (the returned URL).</summary>
    internal static async Task<(EdgeTestServer Server, string LinkUrl)> StartServerAsync(Infrastructure.SlowLink link)
    {
        var (handle, port) = link.ListenInServerNamespace();
        var server = await EdgeTestServer.StartAsync(handle, "--source", "test", "--resolution", "1280x720", "--fps", "15", "--quality", "95");
        return (server, $"http://{link.HostAddress}:{port.ToString(CultureInfo.InvariantCulture)}");
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    /// <summary>The link really is slow: one snapshot takes about its size over the rate, and the fast path does not.</summary>
    [Fact]
    public async Task TheLinkIsShapedToItsRate()
    {
        using var link = Infrastructure.SlowLink.Create("160kbit", 32768);
        var (server, linkUrl) = await StartServerAsync(link);
        await using var _ = server;
        await server.WaitForFramesAsync();
        var started = DateTime.UtcNow;
        using var process = link.Start("/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", "--max-time", "60", linkUrl + "/snapshot.jpg");
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var parts = output.Split(' ');
        Assert.True(parts.Length == 2, "curl printed: " + output);
        var bytes = double.Parse(parts[0], CultureInfo.InvariantCulture);
        var seconds = double.Parse(parts[1], CultureInfo.InvariantCulture);
        Assert.True(bytes > 40_000, $"the snapshot was only {bytes} bytes; the test needs big frames");
        // tbf lets an 8 KB burst through at once; the rest goes at the rate (within TCP's slack).
        Assert.True(seconds > (bytes - 16_000) / SlowBytesPerSecond * 0.8, $"{bytes} bytes took {seconds} s: the link is not shaped");
        var fast = await server.Http.GetByteArrayAsync("/snapshot.jpg");
        Assert.True(fast.Length > 40_000);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(60));
    }

    /// <summary>At 1 Mbit/s a viewer stays and sees frames; today's behaviour already, kept.</summary>
    [Fact]
    public async Task OneMegabitViewerStaysConnected()
    {
        using var link = Infrastructure.SlowLink.Create("1mbit", 131072);
        var (server, linkUrl) = await StartServerAsync(link);
        await using var _ = server;
        await server.WaitForFramesAsync();
        var result = await link.ViewAsync("mjpeg", linkUrl + "/stream.mjpg", 20);
        Assert.True(result.Status == 200 && result.StayedConnected, result.Describe());
        Assert.True(result.Frames.Count >= 5, result.Describe());
    }

    [Fact]
    public Task MjpegViewerAt160KbitIsNotDisconnectedAndItsPictureStaysCurrent() => SlowViewerStaysCurrentAsync("mjpeg", "/stream.mjpg");

    [Fact]
    public Task WebSocketViewerAt160KbitIsNotDisconnectedAndItsPictureStaysCurrent() => SlowViewerStaysCurrentAsync("ws", "/ws?meta=1");

    /// <summary>
    /// Issue 14's target: over 30 s at 160 kbit/s the viewer is never cut (it receives, however slowly)
    /// and a frame is at most about one transfer time old when it arrives. Today the per-write send
    /// deadline (10 s) hangs up on it, and the socket's backlog makes its frames 10+ s old.
    /// </summary>
    private static async Task SlowViewerStaysCurrentAsync(string kind, string path)
    {
        using var link = Infrastructure.SlowLink.Create("160kbit", 32768);
        var (server, linkUrl) = await StartServerAsync(link);
        await using var _ = server;
        await server.WaitForFramesAsync();
        var result = await link.ViewAsync(kind, linkUrl + path, 30);
        Assert.True(result.Status is 200 or 101, result.Describe());
        Assert.True(result.StayedConnected, "disconnected: " + result.Describe());
        Assert.True(result.Frames.Count >= 3, result.Describe());
        // Frame age: the target is 1.25 × (frame bytes ÷ rate) + 0.3 s; allow double that for a loaded machine.
        var transfer = result.Frames.Average(f => f.Bytes) / SlowBytesPerSecond;
        var median = Median(result.Frames.Skip(1).Select(f => f.AgeSeconds));
        Assert.True(median <= 2 * (1.25 * transfer + 0.3), $"median frame age {median:0.0} s, one transfer {transfer:0.0} s: {result.Describe()}");
    }
}

/// <summary>
/// Smaller frames over the same 160 kbit/s link: the adaptive ladder and fixed variants. A class of its
/// own (the link's other tests are in <see cref="SlowLinkTests"/>) so the two halves run side by side:
/// each test has its own namespace, link and server, and waits on the link, not the CPU.
/// </summary>
[LongRunning(100)]
public sealed class SlowLinkSmallFrameTests
{
    private const int SlowBytesPerSecond = SlowLinkTests.SlowBytesPerSecond;

    private static double Median(IEnumerable<double> values) => SlowLinkTests.Median(values);

    [Fact]
    public Task AdaptiveMjpegViewerAt160KbitGetsSmallerFresherFrames() => AdaptiveViewerAsync("mjpeg", "/stream.mjpg?adapt=1");

    [Fact]
    public Task AdaptiveWebSocketViewerAt160KbitGetsSmallerFresherFrames() => AdaptiveViewerAsync("ws", "/ws?meta=1&adapt=1");

    /// <summary>
    /// With ?adapt=1 the server steps down the ladder until a frame crosses the link within the age
    /// target (1 s): smaller frames than the camera's and a picture well under the ~4 s a full frame
    /// takes (issue 14's target: p50 ≤ 2 s at 160 kbit/s; doubled for a loaded machine).
    /// </summary>
    private static async Task AdaptiveViewerAsync(string kind, string path)
    {
        using var link = Infrastructure.SlowLink.Create("160kbit", 32768);
        var (server, linkUrl) = await SlowLinkTests.StartServerAsync(link);
        await using var _ = server;
        await server.WaitForFramesAsync();
        var full = (await server.Http.GetByteArrayAsync("/snapshot.jpg")).Length;
        var result = await link.ViewAsync(kind, linkUrl + path, 30);
        Assert.True(result.Status is 200 or 101, result.Describe());
        Assert.True(result.StayedConnected, "disconnected: " + result.Describe());
        Assert.True(result.Frames.Count >= 10, result.Describe());
        // After the first 10 s the ladder has settled.
        var settled = result.Frames.Where(f => f.Arrival >= result.Frames[0].Arrival + 10).ToList();
        Assert.True(settled.Count >= 5, result.Describe());
        Assert.All(settled, f => Assert.True(f.Width < 1280, $"a {f.Width}×{f.Height} frame after settling: {result.Describe()}"));
        Assert.True(settled.Average(f => f.Bytes) < full * 0.3, $"full frames are {full} bytes: {result.Describe()}");
        var median = Median(settled.Select(f => f.AgeSeconds));
        Assert.True(median <= 4, $"median frame age {median:0.0} s: {result.Describe()}");
    }

    /// <summary>
    /// Variants work over the slow link today: a 320-wide, quality-50 stream is ~5 KB a frame, so the
    /// 160 kbit/s viewer stays connected and gets several frames a second, each 320×180.
    /// </summary>
    [Fact]
    public async Task SmallVariantAt160KbitStaysConnected()
    {
        using var link = Infrastructure.SlowLink.Create("160kbit", 32768);
        var (server, linkUrl) = await SlowLinkTests.StartServerAsync(link);
        await using var _ = server;
        await server.WaitForFramesAsync();
        var result = await link.ViewAsync("mjpeg", linkUrl + "/stream.mjpg?width=320&quality=50", 20);
        Assert.True(result.Status == 200 && result.StayedConnected, result.Describe());
        Assert.True(result.Frames.Count >= 10, result.Describe());
        Assert.All(result.Frames, f => Assert.Equal((320, 180), (f.Width, f.Height)));
        Assert.True(result.Frames.Average(f => f.Bytes) < 20_000, result.Describe());
    }

    /// <summary>
    /// ...and its picture stays current. Today it does not: the variant is encoded when the viewer's
    /// write completes, but a write completes when the kernel takes the bytes, so ~3 frames a second
    /// queue in the socket and the age climbs to ~9 s within 20 s (measured: 64 frames, ages 0.1 → 9.6 s).
    /// </summary>
    [Fact]
    public async Task SmallVariantAt160KbitStaysCurrent()
    {
        using var link = Infrastructure.SlowLink.Create("160kbit", 32768);
        var (server, linkUrl) = await SlowLinkTests.StartServerAsync(link);
        await using var _ = server;
        await server.WaitForFramesAsync();
        var result = await link.ViewAsync("mjpeg", linkUrl + "/stream.mjpg?width=320&quality=50", 20);
        Assert.True(result.Status == 200 && result.StayedConnected, result.Describe());
        var transfer = result.Frames.Average(f => f.Bytes) / SlowBytesPerSecond;
        var worst = result.Frames.Skip(1).Max(f => f.AgeSeconds);
        Assert.True(worst <= 2 * (1.25 * transfer + 0.3) + 1, $"frame age up to {worst:0.0} s, one transfer {transfer:0.00} s: {result.Describe()}");
    }
}

/// <summary>A slow viewer costs nobody else anything: counted frame by frame, so alone with the timing-sensitive tests.</summary>
[Collection(TimingSensitive.Name)]
public sealed class SlowLinkFanOutTests
{
    /// <summary>A viewer on a 160 kbit/s link does not slow anyone else: a loopback viewer at the same time gets every frame.</summary>
    [Fact]
    public async Task FastViewerGetsEveryFrameWhileASlowViewerLags()
    {
        using var link = Infrastructure.SlowLink.Create("160kbit", 32768);
        var (server, linkUrl) = await SlowLinkTests.StartServerAsync(link);
        await using var _ = server;
        await server.WaitForFramesAsync();
        // The slow viewer stays until the fast one has its 150 frames, however long a loaded machine takes,
        // and at least 15 s (three full frames' transfer time at the link's rate), then it is stopped: it
        // must still be connected then, so it lagged behind the whole time the fast one was counted.
        using var stopSlow = new CancellationTokenSource();
        var slowMinimum = Task.Delay(TimeSpan.FromSeconds(15));
        var slow = link.ViewAsync("mjpeg", linkUrl + "/stream.mjpg", 90, stopSlow.Token);
        await Task.Delay(3000);
        await using var fast = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg");
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var first = await fast.ReadPartAsync(window.Token);
        var last = first;
        for (var i = 0; i < 150; i++)
        {
            last = await fast.ReadPartAsync(window.Token);
        }
        // 15 fps for 10 s: every sequence number, none skipped (a generous 5 % for a loaded machine's hiccups).
        var span = last.Sequence - first.Sequence;
        Assert.True(span <= 150 * 1.05, $"the fast viewer skipped {span - 150} of {span} frames while a slow one lagged");
        await slowMinimum;
        await stopSlow.CancelAsync();
        var result = await slow;
        Assert.True(result.End == "stopped", "the slow viewer was not connected until the end: " + result.Describe());
        Assert.True(result.Frames.Count >= 1, result.Describe());
    }

}
