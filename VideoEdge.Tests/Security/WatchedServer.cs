using System.Net;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>
/// A live server with a witness viewer attached, for tests that attack the server: at the end the
/// witness must have received the frames at the source's rate, the server must still answer, and
/// every other stream must be gone with its frames returned to the pool.
/// </summary>
internal sealed class WatchedServer : IAsyncDisposable
{
    public const int Fps = 15;

    /// <summary>The witness watches at least this long, so even a quick test measures its rate.</summary>
    private static readonly TimeSpan MinimumWatch = TimeSpan.FromSeconds(2);
    private readonly DateTime _started = DateTime.UtcNow;

    private WatchedServer(EdgeTestServer server, FrameWitness witness)
    {
        Server = server;
        Witness = witness;
    }

    public EdgeTestServer Server { get; }
    public FrameWitness Witness { get; }
    public Uri Uri => new(Server.BaseUrl);

    public static async Task<WatchedServer> StartAsync(params string[] extra)
    {
        var server = await EdgeTestServer.StartAsync(["--source", "test", "--fps", Fps.ToString(System.Globalization.CultureInfo.InvariantCulture), "--resolution", "320x240", .. extra]);
        await server.WaitForFramesAsync(2);
        return new WatchedServer(server, await FrameWitness.StartAsync(new Uri(server.BaseUrl)));
    }

    /// <summary>Waits until only the witness is left watching; false on timeout.</summary>
    public async Task<bool> WaitForOnlyWitnessAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Server.Camera.Hub.ViewerCount != 1)
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(50);
        }
        return true;
    }

    /// <summary>The witness was not disturbed, the server still serves, and nothing leaked.</summary>
    public async Task AssertUndisturbedAsync(ITestOutputHelper output)
    {
        Assert.True(await WaitForOnlyWitnessAsync(TimeSpan.FromSeconds(15)), $"{Server.Camera.Hub.ViewerCount - 1} attacking streams still registered");
        var watched = DateTime.UtcNow - _started;
        if (watched < MinimumWatch)
        {
            await Task.Delay(MinimumWatch - watched);
        }
        var report = await Witness.StopAsync();
        report.AssertUndisturbed(output);
        using var health = await Server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var snapshot = await Server.Http.GetAsync("/snapshot.jpg");
        Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);
        var pool = Server.Camera.Pool;
        output.WriteLine($"pool: rented {pool.Rented}, returned {pool.Returned}, outstanding {pool.Outstanding}, misuse {pool.Misuse}");
        Assert.Equal(0, pool.Misuse);
        // The hub holds the latest frame; the witness may hold the one it is being sent.
        Assert.InRange(pool.Outstanding, 1, 2);
    }

    public async ValueTask DisposeAsync()
    {
        await Witness.DisposeAsync();
        await Server.DisposeAsync();
    }
}
