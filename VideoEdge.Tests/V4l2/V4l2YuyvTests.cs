using System.Diagnostics;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.V4l2;

/// <summary>A camera without MJPEG: YUYV frames are converted and encoded once, only while someone watches.</summary>
[Collection(TimingSensitive.Name)]
public sealed class V4l2YuyvTests
{
    private static FakeCameraOptions YuyvCamera => new FakeCameraOptions
    {
        Formats = ["yuyv"],
        YuyvSizes = [(640, 480), (1280, 720)],
        Fps = [30, 15, 5],
    };

    [Fact]
    public async Task YuyvFramesAreEncodedAtTheNegotiatedSizeAndRate()
    {
        await using var server = await V4l2App.StartAsync(YuyvCamera, ["--resolution", "1280x720", "--fps", "15"]);
        Assert.Contains("asked for YUYV 1280x720 at 15 fps, granted YUYV 1280x720 at 15 fps", server.Output);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);

        await client.ReadPartAsync(cts.Token);
        var clock = Stopwatch.StartNew();
        var frames = 0;
        MjpegPart? last = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(2))
        {
            last = await client.ReadPartAsync(cts.Token);
            frames++;
        }
        // Not above the granted 15 (the camera's default is 30); the lower bound leaves room for a loaded machine.
        var fps = frames / clock.Elapsed.TotalSeconds;
        Assert.InRange(fps, 6, 17);
        Assert.True(Jpeg.HasMarkers(last!.Body));
        Assert.Equal((1280, 720), Jpeg.Decode(last.Body));

        var state = await V4l2App.StateAsync(server);
        Assert.InRange(state.GetProperty("source").GetProperty("measuredFps").GetDouble(), 6, 17);
        Assert.Equal(0, state.Frames("passthrough"));
        Assert.InRange(state.Frames("encoded"), frames, long.MaxValue);
    }

    [Fact]
    public async Task WithSlowdown_CaptureContinuesButNothingIsEncodedUntilSomeoneWatches()
    {
        await using var server = await V4l2App.StartAsync(YuyvCamera, ["--slowdown"]);
        var idle = await V4l2App.WaitForStateAsync(server, s => s.Frames("captured") >= 20, 15, "20 captured frames");
        Assert.Equal(0, idle.Frames("encoded"));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);
        for (var i = 0; i < 3; i++)
        {
            var part = await client.ReadPartAsync(cts.Token);
            Assert.Equal((640, 480), Jpeg.Decode(part.Body));
        }
        var watched = await V4l2App.StateAsync(server);
        Assert.InRange(watched.Frames("encoded"), 3, long.MaxValue);
    }

    [Fact]
    public async Task AskingForMjpegFromAYuyvOnlyCamera_SaysWhatTheCameraOffers()
    {
        await using var server = await V4l2App.StartAsync(YuyvCamera, ["--format", "mjpeg"]);
        var state = await V4l2App.WaitForStateAsync(server, s => s.GetProperty("source").GetProperty("offlineReason").GetString() is not null,
            10, "an offline reason");
        Assert.Equal("/dev/video0 does not offer --format mjpeg (it has YUYV)", state.GetProperty("source").GetProperty("offlineReason").GetString());
    }
}
