using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenCvSharp;
using VideoEdge.Imaging;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// The viewer page as a user reads it: the overlay bar's texts and the picture, plus the assertions
/// the browser tests share.
/// </summary>
public sealed partial class ViewerScreen(BrowserTab page)
{
    public const string StateScript = "document.getElementById('state').textContent";

    /// <summary>The tab, in any browser.</summary>
    public BrowserTab Tab => page;

    /// <summary>The tab as Chromium's, for the DevTools-only helpers (real input events, downloads, heap).</summary>
    public BrowserPage Page => (BrowserPage)page;

    public static async Task<ViewerScreen> OpenAsync(ChromiumFixture chromium, string baseUrl, string fragment = "", Func<BrowserPage, Task>? before = null)
    {
        var page = await chromium.NewPageAsync();
        if (before is not null)
        {
            await before(page);
        }
        await page.NavigateAsync(baseUrl + "/" + fragment);
        return new ViewerScreen(page);
    }

    public static async Task<ViewerScreen> OpenAsync(IBrowserFixture browser, string baseUrl, string fragment = "")
    {
        var tab = await browser.NewTabAsync();
        await tab.NavigateAsync(baseUrl + "/" + fragment);
        return new ViewerScreen(tab);
    }

    /// <summary>Nothing sticks out sideways: no horizontal scrolling.</summary>
    public async Task AssertNoHorizontalOverflowAsync()
    {
        var widths = await page.EvaluateAsync("[document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        Assert.True(widths[0].GetInt32() <= widths[1].GetInt32(), $"the page is {widths[0]} px wide in a {widths[1]} px window");
    }

    public Task<string> StateAsync() => page.TextAsync("#state");

    /// <summary>
    /// Waits for the size the overlay shows: the page asks for ?adapt=1, which starts a viewer at half
    /// width and climbs to the full picture within seconds where the link carries it (loopback does).
    /// </summary>
    public Task WaitForResolutionAsync(string size) =>
        page.WaitForAsync($"document.getElementById('resolution').textContent === {JsonSerializer.Serialize(size)}", TimeSpan.FromSeconds(30),
            $"the picture at {size}", "document.getElementById('resolution').textContent");

    public Task WaitForStateAsync(string state, TimeSpan timeout) =>
        page.WaitForAsync($"{StateScript} === {JsonSerializer.Serialize(state)}", timeout, $"the state '{state}'", StateScript + " + ' / ' + document.getElementById('banner').textContent");

    /// <summary>The fps number the overlay bar shows.</summary>
    public async Task<double> FpsAsync()
    {
        var text = await page.TextAsync("#fps");
        var match = FpsText().Match(text);
        Assert.True(match.Success, $"the fps readout says '{text}'");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The on-screen picture, without the overlay bar that covers its bottom edge.</summary>
    public async Task<Box> VideoAreaAsync(string selector = "#stage .media:not([hidden])")
    {
        var picture = await page.BoxAsync(selector);
        var overlay = await page.BoxAsync("#overlay");
        var bottom = overlay.Y > picture.Y ? Math.Min(picture.Y + picture.Height, overlay.Y) : picture.Y + picture.Height;
        var area = picture with { Height = bottom - picture.Y };
        Assert.True(area.Width > 100 && area.Height > 100, $"the picture is too small to compare: {area}");
        return area;
    }

    /// <summary>
    /// Two screenshots of the picture a second apart: both show a real picture (not a blank canvas)
    /// and they differ, so the video is moving. Both are kept as artifacts.
    /// </summary>
    public async Task AssertPictureMovesAsync(string artifactName, Box? area = null)
    {
        var clip = area ?? await VideoAreaAsync();
        var first = await page.ScreenshotAsync(clip);
        await Task.Delay(1000);
        var second = await page.ScreenshotAsync(clip);
        ChromiumFixture.SaveArtifact(artifactName + "-1.png", first);
        ChromiumFixture.SaveArtifact(artifactName + "-2.png", second);
        Assert.True(OpenCvRuntime.TryEnsure(out var error), error);
        using var a = Cv2.ImDecode(first, ImreadModes.Grayscale);
        using var b = Cv2.ImDecode(second, ImreadModes.Grayscale);
        Cv2.MeanStdDev(a, out _, out var spread);
        Assert.True(spread.Val0 > 20, $"{artifactName}: the picture looks blank (grey-level spread {spread.Val0:0.0})");
        using var difference = new Mat();
        Cv2.Absdiff(a, b, difference);
        using var changed = new Mat();
        Cv2.Threshold(difference, changed, 24, 255, ThresholdTypes.Binary);
        var changedPixels = Cv2.CountNonZero(changed);
        Assert.True(changedPixels > 200, $"{artifactName}: the picture did not move in 1 s ({changedPixels} pixels changed)");
    }

    /// <summary>The viewers the server sees, as (transport, fps) pairs.</summary>
    public static async Task<(string Transport, double Fps)[]> ServerClientsAsync(HttpClient http, string statePath = "/api/state")
    {
        using var state = JsonDocument.Parse(await http.GetStringAsync(statePath));
        return [.. state.RootElement.GetProperty("clients").EnumerateArray()
            .Select(c => (c.GetProperty("transport").GetString()!, c.GetProperty("fps").GetDouble()))];
    }

    /// <summary>Waits until the server's only viewers are of <paramref name="transport"/>, <paramref name="count"/> of them.</summary>
    public static async Task WaitForServerClientsAsync(HttpClient http, string transport, int count, string statePath = "/api/state")
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var clients = await ServerClientsAsync(http, statePath);
            if (clients.Length == count && clients.All(c => c.Transport == transport))
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline,
                $"expected {count} {transport} viewer(s) at {statePath}, the server has: {string.Join(", ", clients.Select(c => c.Transport))}");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?) fps$")]
    private static partial Regex FpsText();
}
