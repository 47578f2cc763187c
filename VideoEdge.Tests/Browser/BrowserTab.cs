using System.Text.Json;

namespace VideoEdge.Tests.Browser;

/// <summary>
/// One tab of a real browser, whichever engine drives it (Chromium over the DevTools protocol, Firefox
/// over WebDriver BiDi): navigation, script evaluation, screenshots and the page's reported errors.
/// What the engines share is built here on <see cref="EvaluateAsync"/>.
/// </summary>
public abstract class BrowserTab : IAsyncDisposable
{
    /// <summary>"chromium" or "firefox", for messages and artifact names.</summary>
    public abstract string Engine { get; }

    /// <summary>Everything the console would show as an error, in order.</summary>
    public abstract IReadOnlyList<string> Errors { get; }

    /// <summary>Loads the URL and waits for its load event.</summary>
    public abstract Task NavigateAsync(string url);

    /// <summary>Evaluates a script expression (awaiting a promise result) and returns its JSON value.</summary>
    public abstract Task<JsonElement> EvaluateAsync(string expression);

    /// <summary>A PNG of the viewport, or of <paramref name="clip"/> only (CSS pixels).</summary>
    public abstract Task<byte[]> ScreenshotAsync(Box? clip = null);

    public abstract ValueTask DisposeAsync();

    public async Task<string> TextAsync(string selector) =>
        (await EvaluateAsync($"document.querySelector({JsonSerializer.Serialize(selector)}).textContent")).GetString() ?? "";

    /// <summary>
    /// Polls a script condition until it is truthy; fails with what was awaited and the last value of
    /// <paramref name="show"/>. A condition that throws counts as not yet met (on a loaded machine the
    /// first poll can come before the page has parsed the element it reads); if it still throws at the
    /// deadline, the failure says so.
    /// </summary>
    public async Task WaitForAsync(string condition, TimeSpan timeout, string what, string? show = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await EvaluateAsync($"(() => {{ try {{ return !!({condition}); }} catch (e) {{ return String(e); }} }})()");
            if (value.ValueKind == JsonValueKind.True)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                var threw = value.ValueKind == JsonValueKind.String ? $" (the condition threw {value.GetString()})" : "";
                var detail = show is null ? "" : $" (last: {(await EvaluateAsync(show)).GetRawText()})";
                Assert.Fail($"{Engine}: waited {timeout.TotalSeconds:0} s for {what}{threw}{detail}; page errors: {string.Join(" | ", Errors)}");
            }
            await Task.Delay(100);
        }
    }

    public async Task<Box> BoxAsync(string selector)
    {
        var rect = await EvaluateAsync($$"""
            (() => { const r = document.querySelector({{JsonSerializer.Serialize(selector)}}).getBoundingClientRect();
                     return { x: r.x, y: r.y, width: r.width, height: r.height }; })()
            """);
        return new Box(rect.GetProperty("x").GetDouble(), rect.GetProperty("y").GetDouble(), rect.GetProperty("width").GetDouble(), rect.GetProperty("height").GetDouble());
    }
}
