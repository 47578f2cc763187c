using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// Two minutes of 30 fps over WebSocket: the page must not keep anything per frame. Its own class (and
/// browser) so it runs beside the other browser tests instead of after them.
/// </summary>
[LongRunning(140)]
public sealed class ViewerSoakTests(ChromiumFixture chromium, ITestOutputHelper output) : IClassFixture<ChromiumFixture>
{
    private const int SourceFps = 30;
    private static readonly TimeSpan Run = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(20);

    private sealed record Sample(double Seconds, double HeapBytes, int Objects, int Blobs, int Bitmaps, int LiveBlobUrls, int Nodes, int Listeners, long ChromiumRssBytes, double Fps);

    [Fact]
    public async Task Two_minutes_of_WebSocket_keep_the_heap_the_DOM_and_blob_URLs_flat()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", SourceFps.ToString(CultureInfo.InvariantCulture));
        var screen = await ViewerScreen.OpenAsync(chromium, server.BaseUrl, "#transport=ws");
        await using var page = screen.Page;
        await screen.WaitForStateAsync("live", TimeSpan.FromSeconds(15));
        // Let caches, the JIT and the chart's minute of history settle before the baseline.
        await Task.Delay(TimeSpan.FromSeconds(10));

        var clock = Stopwatch.StartNew();
        var samples = new List<Sample>();
        while (true)
        {
            samples.Add(await SampleAsync(screen, page, clock.Elapsed.TotalSeconds));
            output.WriteLine(samples[^1].ToString());
            if (clock.Elapsed >= Run)
            {
                break;
            }
            await Task.Delay(SampleEvery);
        }

        var first = samples[0];
        var last = samples[^1];
        Assert.All(samples, s => Assert.Equal(0, s.LiveBlobUrls));
        // Heap bytes move in steps of tens of KB as V8 compiles hot code, so they get a loose bound; live
        // objects are counted exactly: keeping anything per frame adds thousands of them.
        Assert.True(last.HeapBytes - first.HeapBytes < 500_000,
            $"JS heap after GC grew from {first.HeapBytes / 1e3:0} KB to {last.HeapBytes / 1e3:0} KB");
        Assert.True(last.Objects - first.Objects < 300, $"live objects grew from {first.Objects} to {last.Objects}");
        Assert.All(samples, s => Assert.InRange(s.Blobs, 0, 4));
        Assert.All(samples, s => Assert.InRange(s.Bitmaps, 0, 4));
        Assert.InRange(last.Nodes - first.Nodes, -500, 200);
        Assert.InRange(last.Listeners - first.Listeners, -50, 20);
        // A leaked decoded frame (1.2 MB) or JPEG blob (~25 KB) per frame would add 90 MB to 4 GB in two minutes.
        Assert.True(last.ChromiumRssBytes - first.ChromiumRssBytes < 60_000_000,
            $"Chromium's memory grew from {first.ChromiumRssBytes / 1e6:0} MB to {last.ChromiumRssBytes / 1e6:0} MB");

        // And the stream really ran the whole time (loose bounds: this test shares the machine with the parallel ones).
        using var state = JsonDocument.Parse(await server.Http.GetStringAsync("/api/state"));
        var sent = state.RootElement.GetProperty("clients")[0].GetProperty("framesSent").GetInt64();
        Assert.True(sent > SourceFps * Run.TotalSeconds * 0.4, $"only {sent} frames were sent in {clock.Elapsed.TotalSeconds:0} s");
        // The page's own readout, judged over the run: one reading taken while the parallel tests
        // starve the browser can dip well below the source's rate without anything being wrong.
        var fps = samples.Select(s => s.Fps).Order().ToArray();
        Assert.True(fps[fps.Length / 2] is >= SourceFps * 0.3 and <= SourceFps * 1.2, $"the page's fps readings: {string.Join(" ", samples.Select(s => s.Fps))}");
        Assert.Equal("live", await screen.StateAsync());
        ChromiumFixture.SaveArtifact("viewer-after-two-minutes.png", await page.ScreenshotAsync());
        Assert.Empty(page.Errors);
    }

    private async Task<Sample> SampleAsync(ViewerScreen screen, BrowserPage page, double seconds)
    {
        var heap = await page.HeapAfterCollectionAsync();
        var objects = await page.CountObjectsAsync("Object.prototype");
        var blobs = await page.CountObjectsAsync("Blob.prototype");
        var bitmaps = await page.CountObjectsAsync("ImageBitmap.prototype");
        var blobUrls = (await page.EvaluateAsync("window.__liveBlobUrls")).GetInt32();
        var counters = await page.SendAsync("Memory.getDOMCounters");
        var fps = await screen.FpsAsync();
        long rss = 0;
        foreach (var pid in await chromium.Browser.ProcessIdsAsync())
        {
            rss += ResidentBytes(pid);
        }
        return new Sample(Math.Round(seconds, 1), heap, objects, blobs, bitmaps, blobUrls, counters.GetProperty("nodes").GetInt32(), counters.GetProperty("jsEventListeners").GetInt32(), rss, fps);
    }

    private static long ResidentBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
