using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>VideoEdge A (a camera) → VideoEdge B (pull relay) → viewer: the viewer gets A's bytes.</summary>
public sealed class ChainTests
{
    [Fact]
    public async Task A_relayed_through_b_reaches_the_viewer_byte_identical()
    {
        await using var a = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240");
        await a.WaitForFramesAsync(2);
        await using var tap = new HubTap(a.Camera);
        await using var b = await EdgeTestServer.StartAsync("--camera", "a=mjpeg+" + a.BaseUrl + "/stream.mjpg");
        await b.WaitForFramesAsync(2);

        await using var viewer = await MjpegClient.ConnectAsync(b.BaseUrl + "/cams/a/stream.mjpg");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var hashes = new List<string>();
        while (hashes.Count < 30)
        {
            var part = await viewer.ReadPartAsync(timeout.Token);
            hashes.Add(HubTap.Hash(part.Body));
        }
        var published = tap.Hashes.Values.ToHashSet();
        Assert.All(hashes, h => Assert.Contains(h, published));
        Assert.Equal(hashes.Count, hashes.Distinct().Count());
        // B only passed bytes through: nothing decoded or encoded on the way.
        Assert.Equal(0, b.Camera.Stats.Encoded);
        Assert.Equal(0, b.Camera.Stats.Decoded);
        Assert.Equal(0, b.Camera.Stats.Dropped);
        // B is one viewer of A, however many viewers B has.
        Assert.Equal(2, a.Camera.Hub.ViewerCount);
    }

    [Fact]
    public async Task B_rides_out_a_restart_of_a()
    {
        var first = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240");
        var port = new Uri(first.BaseUrl).Port;
        await using var b = await EdgeTestServer.StartAsync("--camera", "a=mjpeg+" + first.BaseUrl + "/stream.mjpg", "--resolution", "320x240");
        await b.WaitForFramesAsync(5);
        var relay = b.Camera;
        Assert.True(relay.Capture.Online);

        await first.DisposeAsync();
        await WaitUntilAsync(() => !relay.Capture.Online && relay.Stats.NoSignalFrames > 0, "B noticed A going away");
        Assert.Contains("ended the stream", relay.Capture.OfflineReason ?? "");

        await using var second = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240", "--listen", $"127.0.0.1:{port}");
        await using var tap = new HubTap(second.Camera);
        await WaitUntilAsync(() => relay.Capture.Online, "B reconnected to the restarted A");
        await using var viewer = await MjpegClient.ConnectAsync(b.BaseUrl + "/stream.mjpg");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var part = await viewer.ReadPartAsync(timeout.Token);
        part = await viewer.ReadPartAsync(timeout.Token);
        Assert.Contains(HubTap.Hash(part.Body), tap.Hashes.Values);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, string what, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }
}
