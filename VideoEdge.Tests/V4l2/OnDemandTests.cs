using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.V4l2;

/// <summary>
/// --on-demand: four fake USB cameras on one board, as on a Pi's shared USB bus; those nobody watches are switched off (STREAMOFF, buffers
/// released, device closed: the fake logs every open and close) and come back for the first viewer
/// or snapshot; probes never wake them.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed partial class OnDemandTests(V4l2Fixture fx, ITestOutputHelper output) : IClassFixture<V4l2Fixture>
{
    private const string OnDemandSeconds = "2";

    private static readonly string[] Names = ["door", "printer", "yard", "shed"];

    private Task<ProcessServer> StartFourCamerasAsync(string? unplugFile = null) =>
        ProcessServer.StartAsync([.. Names.SelectMany((name, i) => new[] { "--camera", $"{name}=/dev/video{i}" }), "--on-demand", OnDemandSeconds],
            new Dictionary<string, string>((fx.Camera with { DevicePath = "/dev/video0,/dev/video1,/dev/video2,/dev/video3", Log = true, UnplugFile = unplugFile }).Environment()));

    private static async Task<JsonElement> CameraStateAsync(ProcessServer server, string camera)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return JsonDocument.Parse(await http.GetStringAsync($"{server.BaseUrl}/cams/{camera}/state")).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitForAsync(ProcessServer server, string camera, string state, double seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var json = await CameraStateAsync(server, camera);
            if (json.GetProperty("source").GetProperty("state").GetString() == state)
            {
                return json;
            }
            Assert.True(DateTime.UtcNow < deadline, $"camera {camera} not {state} within {seconds} s: {json}\n{server.Output}");
            await Task.Delay(100);
        }
    }

    private static long Captured(JsonElement state) => state.GetProperty("frames").GetProperty("captured").GetInt64();

    /// <summary>The fake's log: fds of the fake devices opened, and fds closed.</summary>
    private static (int Opens, int OpenNow) DeviceFds(ProcessServer server)
    {
        var open = new HashSet<int>();
        var opens = 0;
        foreach (Match m in FakeLogLine().Matches(server.Output))
        {
            var fd = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            if (m.Groups[1].Value == "open")
            {
                opens++;
                open.Add(fd);
            }
            else
            {
                open.Remove(fd);
            }
        }
        return (opens, open.Count);
    }

    [GeneratedRegex(@"fakecam: (open|close) (?:/dev/video\d -> )?fd (\d+)")]
    private static partial Regex FakeLogLine();

    [Fact]
    public async Task Unwatched_cameras_stop_capturing_close_the_device_and_probes_do_not_wake_them()
    {
        await using var server = await StartFourCamerasAsync();
        var door = await WaitForAsync(server, "door", "idle", 20);
        foreach (var name in Names)
        {
            await WaitForAsync(server, name, "idle", 20);
        }
        Assert.True(door.GetProperty("source").GetProperty("online").GetBoolean());
        Assert.Equal(0, DeviceFds(server).OpenNow);
        var opens = DeviceFds(server).Opens;
        var captured = Captured(door);

        // Monitoring probes, repeatedly, for longer than the window: nothing wakes, nothing is captured.
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };
        for (var i = 0; i < 6; i++)
        {
            var health = await http.GetAsync("/healthz");
            Assert.Equal(200, (int)health.StatusCode);
            await http.GetStringAsync("/metrics");
            await http.GetStringAsync("/api/state");
            await http.GetStringAsync("/api/cameras");
            await Task.Delay(500);
        }
        Assert.Contains("videoedge_source_idle{camera=\"door\"} 1", await http.GetStringAsync("/metrics"));
        Assert.Contains("\"state\":\"idle\"", await http.GetStringAsync("/api/cameras"));
        var after = await CameraStateAsync(server, "door");
        Assert.Equal("idle", after.GetProperty("source").GetProperty("state").GetString());
        Assert.Equal(captured, Captured(after));
        Assert.Equal(opens, DeviceFds(server).Opens);
        Assert.Equal(0, DeviceFds(server).OpenNow);
        Assert.Equal(0, after.GetProperty("pool").GetProperty("outstanding").GetInt64());
    }

    [Fact]
    public async Task The_first_viewer_gets_live_frames_and_returning_within_the_window_does_not_restart_the_camera()
    {
        await using var server = await StartFourCamerasAsync();
        await WaitForAsync(server, "door", "idle", 20);
        var opensWhileIdle = DeviceFds(server).Opens;

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var clock = Stopwatch.StartNew();
        await using (var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/door/stream.mjpg", timeout.Token))
        {
            // The first part is a live camera frame, not a stale one from before and not a no-signal picture.
            var first = await viewer.ReadPartAsync(timeout.Token);
            var firstFrameSeconds = clock.Elapsed.TotalSeconds;
            Assert.True(fx.IndexOf(first.Body) >= 0, "the first frame after switching on is not a camera frame");
            Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - first.Timestamp, -1, 2);
            for (var i = 0; i < 10; i++)
            {
                Assert.True(fx.IndexOf((await viewer.ReadPartAsync(timeout.Token)).Body) >= 0);
            }
            output.WriteLine($"on-demand: first frame {firstFrameSeconds * 1000:0} ms after the request");
            Assert.InRange(firstFrameSeconds, 0, 10);
        }
        Assert.Equal(opensWhileIdle + 1, DeviceFds(server).Opens);
        // The cameras nobody watched stayed off the whole time.
        foreach (var name in Names.Skip(1))
        {
            Assert.Equal("idle", (await CameraStateAsync(server, name)).GetProperty("source").GetProperty("state").GetString());
        }

        // Back within the window: same device session, no reopen.
        await Task.Delay(500);
        await using (var again = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/door/stream.mjpg", timeout.Token))
        {
            Assert.True(fx.IndexOf((await again.ReadPartAsync(timeout.Token)).Body) >= 0);
        }
        Assert.Equal(opensWhileIdle + 1, DeviceFds(server).Opens);
        await WaitForAsync(server, "door", "idle", 20);
        Assert.Equal(0, DeviceFds(server).OpenNow);
    }

    [Fact]
    public async Task A_snapshot_of_an_idle_camera_is_a_fresh_frame()
    {
        await using var server = await StartFourCamerasAsync();
        await WaitForAsync(server, "printer", "idle", 20);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        var response = await http.GetAsync(server.BaseUrl + "/cams/printer/snapshot.jpg");
        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(fx.IndexOf(body) >= 0, "the snapshot is not a camera frame");
        var captured = double.Parse(response.Headers.GetValues("X-Timestamp").Single(), CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 - captured, -1, 3);
    }

    [Fact]
    public async Task A_camera_unplugged_while_idle_shows_no_signal_when_woken()
    {
        var unplug = Path.Combine(fx.Root, "unplugged-" + Guid.NewGuid().ToString("N"));
        await using var server = await StartFourCamerasAsync(unplug);
        await WaitForAsync(server, "door", "idle", 20);
        await File.WriteAllTextAsync(unplug, "");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/door/stream.mjpg", timeout.Token);
            var part = await viewer.ReadPartAsync(timeout.Token);
            Assert.Equal(-1, fx.IndexOf(part.Body));
            var state = await CameraStateAsync(server, "door");
            Assert.Equal("offline", state.GetProperty("source").GetProperty("state").GetString());
            Assert.Equal("device unplugged", state.GetProperty("source").GetProperty("offlineReason").GetString());
        }
        finally
        {
            File.Delete(unplug);
        }
    }
}
