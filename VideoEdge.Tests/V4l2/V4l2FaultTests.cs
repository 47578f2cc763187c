using System.Text.Json;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.V4l2;

/// <summary>What a viewer sees when the camera is unplugged, stalls, is busy or is not a camera.</summary>
[Collection(TimingSensitive.Name)]
public sealed class V4l2FaultTests(V4l2Fixture fx) : IClassFixture<V4l2Fixture>
{
    private static string? OfflineReason(JsonElement state) => state.GetProperty("source").GetProperty("offlineReason").GetString();

    [Fact]
    public async Task Unplug_ViewersGetNoSignalWithinASecond_StayConnected_AndGetLiveFramesSoonAfterReplug()
    {
        // 45 frames (1.5 s) after streaming starts the camera disappears, and comes back 2 s later.
        var camera = fx.Camera with { UnplugAfterFrames = 45, ReplugAfterSeconds = 2 };
        await using var server = await V4l2App.StartAsync(camera, []);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);

        DateTime? lastLive = null, firstNoSignal = null, firstLiveAgain = null;
        var noSignalFrames = 0;
        JsonElement? offlineState = null;
        while (firstLiveAgain is null)
        {
            var part = await client.ReadPartAsync(cts.Token);
            var live = fx.IndexOf(part.Body) >= 0;
            if (firstNoSignal is null)
            {
                if (live)
                {
                    lastLive = part.ReceivedUtc;
                    continue;
                }
                Assert.NotNull(lastLive);
                firstNoSignal = part.ReceivedUtc;
                Assert.Equal((V4l2Fixture.Width, V4l2Fixture.Height), Jpeg.Decode(part.Body));
                offlineState = await V4l2App.StateAsync(server);
            }
            if (live)
            {
                firstLiveAgain = part.ReceivedUtc;
            }
            else
            {
                noSignalFrames++;
            }
        }

        // The fake's frames keep coming at 30 fps until the unplug, so the gap is the detection delay.
        Assert.InRange((firstNoSignal!.Value - lastLive!.Value).TotalSeconds, 0, 1.0);
        Assert.False(offlineState!.Value.GetProperty("source").GetProperty("online").GetBoolean());
        Assert.Equal("device unplugged", OfflineReason(offlineState.Value));
        // Replug is 2 s after the unplug, reopening is tried every second: live again within 2 s of the replug.
        Assert.InRange((firstLiveAgain!.Value - firstNoSignal.Value).TotalSeconds, 1.0, 4.0);
        Assert.InRange(noSignalFrames, 2, 6);

        var state = await V4l2App.StateAsync(server);
        Assert.True(state.GetProperty("source").GetProperty("online").GetBoolean());
        Assert.Contains("'/dev/video0' unavailable: device unplugged", server.Output);
        await client.DisposeAsync();
        var final = await V4l2App.WaitForStateAsync(server, s => s.GetProperty("pool").GetProperty("outstanding").GetInt64() <= 1
            && s.GetProperty("viewers").GetInt32() == 0, 5, "every frame but the latest returned to the pool");
        Assert.Equal(0, final.GetProperty("pool").GetProperty("misuse").GetInt64());
    }

    [Fact]
    public async Task ACameraThatStopsSendingFrames_IsReportedAfterTheDeviceTimeout()
    {
        // The only rate the camera offers is one frame every 2 s: longer than --device-timeout 0.5.
        await using var server = await V4l2App.StartAsync(fx.Camera.WithFps(0.5), ["--device-timeout", "0.5"]);
        var state = await V4l2App.WaitForStateAsync(server, s => OfflineReason(s) is not null and not "starting", 10, "an offline reason");
        Assert.Equal("no frame for 0.5 s", OfflineReason(state));
        Assert.Contains("granted MJPG 640x480 at 0.5 fps", server.Output);
    }

    [Fact]
    public async Task ABusyCamera_GetsOneLogLineNamingTheDeviceAndTheCause()
    {
        await using var server = await V4l2App.StartAsync(fx.Camera with { Busy = true }, ["--device-error-delay", "0.2"]);
        var state = await V4l2App.WaitForStateAsync(server, s => s.Frames("noSignal") >= 2, 10, "two no-signal frames");
        Assert.Equal("busy: another program is using /dev/video0", OfflineReason(state));
        var lines = server.Output.Split('\n').Where(l => l.Contains("busy: another program is using /dev/video0")).ToList();
        Assert.Single(lines);
        Assert.Contains("'/dev/video0' unavailable", lines[0]);
    }

    [Fact]
    public async Task NotACaptureDevice_AndAMissingDevice_AreNamedAsSuch()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "/dev/null", "--camera", "gone=/dev/video-that-does-not-exist");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (server.Cameras.All.Any(c => c.Capture.OfflineReason is null or "starting"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the cameras did not report why they are offline");
            await Task.Delay(20);
        }
        Assert.Equal("not a capture device: /dev/null is not a V4L2 device", server.Camera.Capture.OfflineReason);
        Assert.True(server.Cameras.TryGet("gone", out var gone));
        Assert.Equal("no such device: /dev/video-that-does-not-exist (is the camera plugged in? see --list-devices)", gone.Capture.OfflineReason);
        await server.WaitForFramesAsync(1);
        using var snapshot = await server.Http.GetAsync("/snapshot.jpg");
        Assert.True(snapshot.IsSuccessStatusCode);
        Assert.True(Jpeg.HasMarkers(await snapshot.Content.ReadAsByteArrayAsync()));
    }
}
