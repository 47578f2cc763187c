namespace VideoEdge.Tests.Browser;

/// <summary>One headless Firefox ESR shared by the tests of a class; each test opens its own window.</summary>
public sealed class FirefoxFixture : IBrowserFixture, IAsyncLifetime
{
    private Firefox? _firefox;

    public string Engine => "firefox";

    public string Downloads { get; } = Directory.CreateDirectory(Path.Combine(ChromiumFixture.Artifacts, "downloads-firefox")).FullName;

    public async Task InitializeAsync() => _firefox = await Firefox.LaunchAsync(Downloads);

    public async Task<BrowserTab> NewTabAsync() =>
        await (_firefox ?? throw new InvalidOperationException("Firefox is not running")).NewTabAsync();

    public async Task DisposeAsync()
    {
        if (_firefox is not null)
        {
            await _firefox.DisposeAsync();
        }
    }
}
