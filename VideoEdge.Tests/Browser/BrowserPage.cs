using System.Text.Json;
using System.Text.Json.Nodes;

namespace VideoEdge.Tests.Browser;

/// <summary>A screen rectangle in CSS pixels.</summary>
public readonly record struct Box(double X, double Y, double Width, double Height)
{
    public double CenterX => X + Width / 2;
    public double CenterY => Y + Height / 2;
}

/// <summary>A file the page downloaded: the name the page gave it and where Chromium saved it.</summary>
public sealed record Download(string SuggestedName, string Path);

/// <summary>
/// One tab: navigation, script evaluation, real mouse and keyboard input, screenshots, and a record
/// of everything the page reported as an error (exceptions, console.error, failed loads).
/// </summary>
public sealed class BrowserPage : BrowserTab
{
    /// <summary>
    /// Counts object URLs the page creates and has not revoked yet, wrapped in before any page script
    /// runs, so a page that forgets to revoke them shows up as a growing number.
    /// </summary>
    private const string BlobUrlCounter = """
        (() => {
          const live = new Set();
          const create = URL.createObjectURL, revoke = URL.revokeObjectURL;
          let created = 0;
          URL.createObjectURL = function (target) { const url = create.call(URL, target); live.add(url); created++; return url; };
          URL.revokeObjectURL = function (url) { live.delete(url); return revoke.call(URL, url); };
          Object.defineProperty(window, "__liveBlobUrls", { get: () => live.size });
          Object.defineProperty(window, "__createdBlobUrls", { get: () => created });
        })();
        """;

    private readonly CdpConnection _connection;
    private readonly string _context;
    private readonly string _target;
    private readonly string _session;
    private readonly IDisposable _listener;
    private readonly Lock _errorsLock = new();
    private readonly List<string> _errors = [];
    private readonly List<string> _exceptions = [];

    private BrowserPage(CdpConnection connection, string context, string target, string session)
    {
        _connection = connection;
        _context = context;
        _target = target;
        _session = session;
        _listener = connection.Listen(OnEvent);
    }

    public override string Engine => "chromium";

    /// <summary>Everything the DevTools console would show as an error, in order.</summary>
    public override IReadOnlyList<string> Errors
    {
        get
        {
            lock (_errorsLock)
            {
                return [.. _errors];
            }
        }
    }

    /// <summary>Uncaught script exceptions and unhandled rejections only.</summary>
    public IReadOnlyList<string> Exceptions
    {
        get
        {
            lock (_errorsLock)
            {
                return [.. _exceptions];
            }
        }
    }

    internal static async Task<BrowserPage> AttachAsync(CdpConnection connection, string context, string target, string session)
    {
        var page = new BrowserPage(connection, context, target, session);
        await page.SendAsync("Page.enable");
        await page.SendAsync("Runtime.enable");
        await page.SendAsync("Log.enable");
        await page.SetViewportAsync(1280, 800, mobile: false);
        await page.SendAsync("Page.addScriptToEvaluateOnNewDocument", new JsonObject { ["source"] = BlobUrlCounter });
        return page;
    }

    /// <summary>Sizes the viewport; <paramref name="mobile"/> also emulates a phone's touch screen and meta viewport handling.</summary>
    public async Task SetViewportAsync(int width, int height, bool mobile, double scale = 1)
    {
        await SendAsync("Emulation.setDeviceMetricsOverride", new JsonObject
        {
            ["width"] = width,
            ["height"] = height,
            ["deviceScaleFactor"] = scale,
            ["mobile"] = mobile,
        });
        await SendAsync("Emulation.setTouchEmulationEnabled", new JsonObject { ["enabled"] = mobile });
    }

    public Task<JsonElement> SendAsync(string method, JsonObject? parameters = null) => _connection.SendAsync(method, parameters, _session);

    public override async Task NavigateAsync(string url)
    {
        await _connection.WaitForEventAsync("Page.loadEventFired", _session, null,
            SendAsync("Page.navigate", new JsonObject { ["url"] = url }), TimeSpan.FromSeconds(20));
    }

    public override async Task<JsonElement> EvaluateAsync(string expression)
    {
        var reply = await SendAsync("Runtime.evaluate", new JsonObject
        {
            ["expression"] = expression,
            ["returnByValue"] = true,
            ["awaitPromise"] = true,
        });
        if (reply.TryGetProperty("exceptionDetails", out var details))
        {
            throw new CdpException($"script failed: {expression}\n{details.GetRawText()}");
        }
        return reply.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    /// <summary>A real left click in the middle of the element, as a user's mouse would make it.</summary>
    public async Task ClickAsync(string selector)
    {
        var box = await BoxAsync(selector);
        Assert.True(box.Width > 0 && box.Height > 0, $"{selector} is not visible");
        foreach (var type in new[] { "mouseMoved", "mousePressed", "mouseReleased" })
        {
            await SendAsync("Input.dispatchMouseEvent", new JsonObject
            {
                ["type"] = type,
                ["x"] = box.CenterX,
                ["y"] = box.CenterY,
                ["button"] = type == "mouseMoved" ? "none" : "left",
                ["clickCount"] = type == "mouseMoved" ? 0 : 1,
            });
        }
    }

    /// <summary>Presses and releases a printable key or a named one (Tab, Enter, Escape).</summary>
    public async Task PressKeyAsync(string key)
    {
        var (code, keyCode, text) = key switch
        {
            "Tab" => ("Tab", 9, ""),
            "Enter" => ("Enter", 13, "\r"),
            "Escape" => ("Escape", 27, ""),
            " " => ("Space", 32, " "),
            _ when key.Length == 1 && char.IsAsciiLetter(key[0]) => ("Key" + char.ToUpperInvariant(key[0]), (int)char.ToUpperInvariant(key[0]), key),
            _ => throw new ArgumentException("unsupported key " + key, nameof(key)),
        };
        var down = new JsonObject
        {
            ["type"] = text.Length > 0 ? "keyDown" : "rawKeyDown",
            ["key"] = key,
            ["code"] = code,
            ["windowsVirtualKeyCode"] = keyCode,
        };
        if (text.Length > 0)
        {
            down["text"] = text;
        }
        await SendAsync("Input.dispatchKeyEvent", down);
        await SendAsync("Input.dispatchKeyEvent", new JsonObject { ["type"] = "keyUp", ["key"] = key, ["code"] = code, ["windowsVirtualKeyCode"] = keyCode });
    }

    public override async Task<byte[]> ScreenshotAsync(Box? clip = null)
    {
        var parameters = new JsonObject { ["format"] = "png" };
        if (clip is { } c)
        {
            parameters["clip"] = new JsonObject { ["x"] = c.X, ["y"] = c.Y, ["width"] = c.Width, ["height"] = c.Height, ["scale"] = 1 };
        }
        var reply = await SendAsync("Page.captureScreenshot", parameters);
        return Convert.FromBase64String(reply.GetProperty("data").GetString()!);
    }

    /// <summary>The JS heap in use right after a full garbage collection, in bytes.</summary>
    public async Task<double> HeapAfterCollectionAsync()
    {
        await SendAsync("HeapProfiler.collectGarbage");
        var usage = await SendAsync("Runtime.getHeapUsage");
        return usage.GetProperty("usedSize").GetDouble();
    }

    /// <summary>
    /// How many live objects in the page inherit from <paramref name="prototype"/> (a script expression
    /// such as "Blob.prototype"), counted by walking the heap.
    /// </summary>
    public async Task<int> CountObjectsAsync(string prototype)
    {
        const string Group = "object-count";
        try
        {
            var target = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = prototype, ["objectGroup"] = Group });
            var found = await SendAsync("Runtime.queryObjects", new JsonObject
            {
                ["prototypeObjectId"] = target.GetProperty("result").GetProperty("objectId").GetString(),
                ["objectGroup"] = Group,
            });
            var length = await SendAsync("Runtime.callFunctionOn", new JsonObject
            {
                ["functionDeclaration"] = "function () { return this.length; }",
                ["objectId"] = found.GetProperty("objects").GetProperty("objectId").GetString(),
                ["returnByValue"] = true,
            });
            return length.GetProperty("result").GetProperty("value").GetInt32();
        }
        finally
        {
            await SendAsync("Runtime.releaseObjectGroup", new JsonObject { ["objectGroup"] = Group });
        }
    }

    /// <summary>Runs <paramref name="trigger"/> and waits until the download it starts has been written to disk.</summary>
    public async Task<Download> DownloadAsync(Func<Task> trigger, TimeSpan timeout)
    {
        var begun = new TaskCompletionSource<(string Guid, string Name)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = _connection.Listen(e =>
        {
            if (e.Method == "Browser.downloadWillBegin")
            {
                begun.TrySetResult((e.Params.GetProperty("guid").GetString()!, e.Params.GetProperty("suggestedFilename").GetString()!));
            }
            else if (e.Method == "Browser.downloadProgress" && e.Params.GetProperty("state").GetString() is "completed" or "canceled")
            {
                finished.TrySetResult(e.Params.GetProperty("guid").GetString() + " " + e.Params.GetProperty("state").GetString()
                    + (e.Params.TryGetProperty("filePath", out var path) ? " " + path.GetString() : ""));
            }
        });
        await trigger();
        var (guid, name) = await begun.Task.WaitAsync(timeout);
        var result = (await finished.Task.WaitAsync(timeout)).Split(' ', 3);
        Assert.Equal(guid, result[0]);
        Assert.Equal("completed", result[1]);
        return new Download(name, result.Length > 2 ? result[2] : "");
    }

    private void OnEvent(CdpEvent e)
    {
        if (e.SessionId != _session)
        {
            return;
        }
        string? error = null;
        var exception = false;
        switch (e.Method)
        {
            case "Runtime.exceptionThrown":
                var details = e.Params.GetProperty("exceptionDetails");
                error = details.TryGetProperty("exception", out var ex) && ex.TryGetProperty("description", out var description)
                    ? description.GetString()
                    : details.GetProperty("text").GetString();
                exception = true;
                break;
            case "Runtime.consoleAPICalled" when e.Params.GetProperty("type").GetString() is "error" or "assert":
                error = "console." + e.Params.GetProperty("type").GetString() + ": "
                    + string.Join(" ", e.Params.GetProperty("args").EnumerateArray().Select(a =>
                        a.TryGetProperty("value", out var v) ? v.ToString() : a.TryGetProperty("description", out var d) ? d.GetString() : a.GetRawText()));
                break;
            case "Log.entryAdded" when e.Params.GetProperty("entry").GetProperty("level").GetString() == "error":
                var entry = e.Params.GetProperty("entry");
                error = $"{entry.GetProperty("source").GetString()}: {entry.GetProperty("text").GetString()}"
                    + (entry.TryGetProperty("url", out var url) ? " " + url.GetString() : "");
                break;
        }
        if (error is not null)
        {
            lock (_errorsLock)
            {
                _errors.Add(error);
                if (exception)
                {
                    _exceptions.Add(error);
                }
            }
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            await _connection.SendAsync("Target.closeTarget", new JsonObject { ["targetId"] = _target });
            await _connection.SendAsync("Target.disposeBrowserContext", new JsonObject { ["browserContextId"] = _context });
        }
        catch (CdpException)
        {
        }
    }
}
