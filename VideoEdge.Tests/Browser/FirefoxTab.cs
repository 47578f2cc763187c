using System.Text.Json;
using System.Text.Json.Nodes;

namespace VideoEdge.Tests.Browser;

/// <summary>One Firefox browsing context driven over WebDriver BiDi (see <see cref="Firefox"/>).</summary>
public sealed class FirefoxTab : BrowserTab
{
    private readonly CdpConnection _connection;
    private readonly string _context;
    private readonly IDisposable _listener;
    private readonly Lock _errorsLock = new();
    private readonly List<string> _errors = [];

    private FirefoxTab(CdpConnection connection, string context)
    {
        _connection = connection;
        _context = context;
        _listener = connection.Listen(OnEvent);
    }

    public override string Engine => "firefox";

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

    internal static async Task<FirefoxTab> AttachAsync(CdpConnection connection, string context)
    {
        var tab = new FirefoxTab(connection, context);
        await connection.SendAsync("browsingContext.setViewport", new JsonObject
        {
            ["context"] = context,
            ["viewport"] = new JsonObject { ["width"] = 1280, ["height"] = 800 },
        });
        return tab;
    }

    public override Task NavigateAsync(string url) =>
        _connection.SendAsync("browsingContext.navigate", new JsonObject { ["context"] = _context, ["url"] = url, ["wait"] = "complete" });

    /// <summary>
    /// BiDi returns typed remote values; the page serialises the result to JSON itself, so callers get
    /// the same plain JSON value as from Chromium.
    /// </summary>
    public override async Task<JsonElement> EvaluateAsync(string expression)
    {
        var reply = await _connection.SendAsync("script.evaluate", new JsonObject
        {
            ["expression"] = $"(async () => JSON.stringify(await ({expression})))()",
            ["target"] = new JsonObject { ["context"] = _context },
            ["awaitPromise"] = true,
            ["resultOwnership"] = "none",
            // Counts as a user's gesture, as a click or key press would.
            ["userActivation"] = true,
        });
        if (reply.GetProperty("type").GetString() != "success")
        {
            throw new CdpException($"script failed: {expression}\n{reply.GetProperty("exceptionDetails").GetRawText()}");
        }
        var result = reply.GetProperty("result");
        if (result.GetProperty("type").GetString() != "string")
        {
            return default;   // undefined
        }
        using var json = JsonDocument.Parse(result.GetProperty("value").GetString()!);
        return json.RootElement.Clone();
    }

    public override async Task<byte[]> ScreenshotAsync(Box? clip = null)
    {
        var parameters = new JsonObject { ["context"] = _context, ["origin"] = "viewport" };
        if (clip is { } c)
        {
            parameters["clip"] = new JsonObject { ["type"] = "box", ["x"] = c.X, ["y"] = c.Y, ["width"] = c.Width, ["height"] = c.Height };
        }
        var reply = await _connection.SendAsync("browsingContext.captureScreenshot", parameters);
        return Convert.FromBase64String(reply.GetProperty("data").GetString()!);
    }

    private void OnEvent(CdpEvent e)
    {
        if (e.Method != "log.entryAdded" || e.Params.GetProperty("level").GetString() != "error"
            || e.Params.GetProperty("source").GetProperty("context").GetString() != _context)
        {
            return;
        }
        lock (_errorsLock)
        {
            _errors.Add(e.Params.GetProperty("type").GetString() + ": " + e.Params.GetProperty("text").GetString());
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        try
        {
            await _connection.SendAsync("browsingContext.close", new JsonObject { ["context"] = _context });
        }
        catch (CdpException)
        {
        }
    }
}
