using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Hosting;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>The real app with real Kestrel on 127.0.0.1, port 0, inside the test process.</summary>
public sealed class EdgeTestServer : IAsyncDisposable
{
    private EdgeTestServer(WebApplication app, string baseUrl)
    {
        App = app;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    public WebApplication App { get; }
    public string BaseUrl { get; }
    public Uri WebSocketBase => new(BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal));
    public HttpClient Http { get; }
    public CameraSet Cameras => App.Services.GetRequiredService<CameraSet>();
    public Camera Camera => Cameras.Default;

    /// <summary>Starts the server with these flags (plus --listen 127.0.0.1:0 unless given).</summary>
    public static Task<EdgeTestServer> StartAsync(params string[] args) => StartAsync(extraListenHandle: null, args);

    /// <summary>
    /// As <see cref="StartAsync(string[])"/>, and listening on <paramref name="extraListenHandle"/> as
    /// well: a socket made elsewhere (in a network namespace of the test's own), which Kestrel then owns.
    /// </summary>
    public static async Task<EdgeTestServer> StartAsync(ulong? extraListenHandle, params string[] args)
    {
        var all = args.Contains("--listen") ? args : [.. args, "--listen", "127.0.0.1:0"];
        var (options, error) = OptionsParser.Parse(all, _ => null);
        Assert.True(options is not null, error);
        var app = EdgeApp.Build(options!, b =>
        {
            // Warnings and errors only: dozens of servers start in one run, and their info lines drown the test report.
            b.Logging.AddFilter<ConsoleLoggerProvider>(null, LogLevel.Warning);
            if (extraListenHandle is { } handle)
            {
                b.WebHost.ConfigureKestrel(kestrel => kestrel.ListenHandle(handle));
            }
        });
        await app.StartAsync();
        // Kestrel names a listen handle http://<file handle>, which is no address.
        var url = EdgeApp.ServerUrls(app).First(u => Uri.TryCreate(u, UriKind.Absolute, out _));
        return new EdgeTestServer(app, url);
    }

    /// <summary>Waits until the camera has published at least one frame.</summary>
    public async Task WaitForFramesAsync(long count = 1, Camera? camera = null)
    {
        camera ??= Camera;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (camera.Hub.LatestSequence < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"camera {camera.Name} published no frame in 20 s");
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await App.StopAsync(timeout.Token);
        await App.DisposeAsync();
    }
}
