namespace VideoEdge.Tests.Browser;

/// <summary>One running browser shared by the tests of a class, whichever engine it is.</summary>
public interface IBrowserFixture
{
    /// <summary>"chromium" or "firefox".</summary>
    string Engine { get; }

    /// <summary>Where files the page downloads land.</summary>
    string Downloads { get; }

    /// <summary>A new tab (own window where the engine needs it to stay visible) at 1280×800.</summary>
    Task<BrowserTab> NewTabAsync();
}
