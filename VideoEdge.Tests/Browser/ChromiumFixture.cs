namespace VideoEdge.Tests.Browser;

/// <summary>One headless Chromium shared by the tests of a class; each test opens its own tab and context.</summary>
public sealed class ChromiumFixture : IBrowserFixture, IAsyncLifetime
{
    private Chromium? _chromium;

    public Chromium Browser => _chromium ?? throw new InvalidOperationException("Chromium is not running");

    /// <summary>Where screenshots and downloads are kept for a person to look at ($VIDEOEDGE_ARTIFACTS or bin/…/artifacts).</summary>
    public static string Artifacts { get; } = Directory.CreateDirectory(Path.Combine(
        Environment.GetEnvironmentVariable("VIDEOEDGE_ARTIFACTS") is { Length: > 0 } root ? root : Path.Combine(AppContext.BaseDirectory, "artifacts"),
        "browser")).FullName;

    public async Task InitializeAsync() => _chromium = await Chromium.LaunchAsync();

    public string Engine => "chromium";

    public string Downloads { get; } = Directory.CreateDirectory(Path.Combine(Artifacts, "downloads")).FullName;

    /// <summary>A new tab; its downloads land in the artifacts' downloads folder.</summary>
    public Task<BrowserPage> NewPageAsync() => Browser.NewPageAsync(Downloads);

    /// <summary>A page that accepts the tests' self-signed certificates, as Firefox's session does.</summary>
    async Task<BrowserTab> IBrowserFixture.NewTabAsync()
    {
        var page = await NewPageAsync();
        await page.SendAsync("Security.setIgnoreCertificateErrors", new System.Text.Json.Nodes.JsonObject { ["ignore"] = true });
        return page;
    }

    public static string SaveArtifact(string name, byte[] data)
    {
        var path = Path.Combine(Artifacts, name);
        File.WriteAllBytes(path, data);
        return path;
    }

    public async Task DisposeAsync()
    {
        if (_chromium is not null)
        {
            await _chromium.DisposeAsync();
        }
    }
}
