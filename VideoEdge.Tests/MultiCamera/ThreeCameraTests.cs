using System.Net;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>Three cameras in one process: each has its own hub, endpoints and place in /api/cameras.</summary>
[Collection(TimingSensitive.Name)]
public sealed class ThreeCameraTests
{
    private const int Fps = 10;

    [Fact]
    public async Task Each_viewer_gets_every_frame_of_its_own_camera_and_nothing_else()
    {
        // Different pictures per camera, so a frame routed to the wrong viewer would be recognised.
        var dir = TestVideos.NewDirectory();
        var back = TestVideos.Solid(dir, "back", new OpenCvSharp.Scalar(255, 0, 0));
        var yard = TestVideos.Solid(dir, "yard", new OpenCvSharp.Scalar(0, 160, 0));
        await using var server = await EdgeTestServer.StartAsync(
            "--camera", "front=test", "--camera", "back=file:" + back, "--camera", "yard=file:" + yard, "--fps", Fps.ToString(), "--resolution", "320x240");
        var cams = server.Cameras.All;
        Assert.Equal(["front", "back", "yard"], cams.Select(c => c.Name));
        foreach (var camera in cams)
        {
            await server.WaitForFramesAsync(2, camera);
        }
        var taps = cams.ToDictionary(c => c.Name, c => new HubTap(c));

        using var stop = new CancellationTokenSource();
        var viewers = new (string Camera, Task<List<(long Seq, string Hash, double Timestamp)>> Frames)[]
        {
            ("front", CollectMjpegAsync(server.BaseUrl + "/cams/front/stream.mjpg", stop.Token)),
            ("front", CollectMjpegAsync(server.BaseUrl + "/stream.mjpg", stop.Token)),
            ("back", CollectMjpegAsync(server.BaseUrl + "/cams/back/stream.mjpg", stop.Token)),
            ("back", CollectWebSocketAsync(new Uri(server.WebSocketBase, "/cams/back/ws?meta=1"), stop.Token)),
            ("yard", CollectWebSocketAsync(new Uri(server.WebSocketBase, "/cams/yard/ws?meta=1"), stop.Token)),
        };
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var from = cams.ToDictionary(c => c.Name, c => c.Hub.LatestSequence + 1);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var to = cams.ToDictionary(c => c.Name, c => c.Hub.LatestSequence);
        await Task.Delay(300);
        await stop.CancelAsync();
        foreach (var tap in taps.Values)
        {
            await tap.DisposeAsync();
        }

        foreach (var (camera, task) in viewers)
        {
            var frames = (await task).Where(f => f.Seq >= from[camera] && f.Seq <= to[camera]).ToList();
            Assert.True(frames.Count >= 2.5 * Fps * 0.8, $"{camera}: only {frames.Count} frames");
            Assert.Equal(from[camera], frames[0].Seq);
            Assert.Equal(to[camera], frames[^1].Seq);
            // Every frame the camera published while the viewer watched, in order. Latest frame wins,
            // so the one exception is a frame replaced at once: when a loaded machine delays the
            // capture thread, it catches up with frames in quick succession.
            for (var i = 1; i < frames.Count; i++)
            {
                var (previous, current) = (frames[i - 1], frames[i]);
                var gap = current.Seq - previous.Seq;
                Assert.True(gap >= 1, $"{camera}: frame {current.Seq} after {previous.Seq}");
                Assert.True(gap == 1 || current.Timestamp - previous.Timestamp < (gap - 0.5) / Fps,
                    $"{camera}: skipped {gap - 1} frame(s) after {previous.Seq} although they came {current.Timestamp - previous.Timestamp:0.000} s apart");
            }
            // Byte for byte the frames this camera published (the tap saw them from inside the hub).
            var compared = 0;
            foreach (var (seq, hash, _) in frames)
            {
                if (taps[camera].Hashes.TryGetValue(seq, out var published))
                {
                    Assert.Equal(published, hash);
                    compared++;
                }
                foreach (var other in taps.Where(t => t.Key != camera))
                {
                    Assert.DoesNotContain(hash, other.Value.Hashes.Values);
                }
            }
            Assert.True(compared >= frames.Count * 0.9, $"{camera}: the tap saw only {compared} of {frames.Count} frames");
        }
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Api_cameras_lists_every_camera_with_kind_state_size_fps_and_viewers()
    {
        await using var server = await EdgeTestServer.StartAsync(
            "--camera", "a=test", "--camera", "b=test", "--camera", "c=test", "--fps", "10", "--resolution", "320x240");
        foreach (var camera in server.Cameras.All)
        {
            // Long enough for the two-second rate window to fill.
            await server.WaitForFramesAsync(25, camera);
        }
        await using var viewer1 = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/b/stream.mjpg");
        await using var viewer2 = await WebSocketViewer.ConnectAsync(new Uri(server.WebSocketBase, "/cams/b/ws"));
        await viewer1.ReadPartAsync();
        Assert.NotNull(await viewer2.ReadFrameAsync());

        using var response = await server.Http.GetAsync("/api/cameras");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var list = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(["a", "b", "c"], list.Select(c => c.GetProperty("name").GetString()));
        foreach (var camera in list)
        {
            // Exactly the documented shape: the viewer page is built against it.
            Assert.Equal(["name", "kind", "online", "offlineReason", "width", "height", "fps", "viewers", "state", "settings"], camera.EnumerateObject().Select(p => p.Name));
            Assert.Equal("test", camera.GetProperty("kind").GetString());
            Assert.True(camera.GetProperty("online").GetBoolean());
            Assert.Equal(JsonValueKind.Null, camera.GetProperty("offlineReason").ValueKind);
            Assert.Equal(320, camera.GetProperty("width").GetInt32());
            Assert.Equal(240, camera.GetProperty("height").GetInt32());
            Assert.InRange(camera.GetProperty("fps").GetDouble(), 5, 15);
        }
        Assert.Equal([0, 2, 0], list.Select(c => c.GetProperty("viewers").GetInt32()));
    }

    [Fact]
    public async Task Unknown_camera_is_a_404_that_lists_the_known_ones()
    {
        await using var server = await EdgeTestServer.StartAsync("--camera", "a=test", "--camera", "b=test", "--fps", "5", "--resolution", "160x120");
        foreach (var path in new[] { "/cams/zz/stream.mjpg", "/cams/zz/snapshot.jpg", "/cams/zz/state", "/cams/A/ws" })
        {
            using var response = await server.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Contains("a, b", body);
        }
        using var state = await server.Http.GetAsync("/cams/b/state");
        Assert.Equal(HttpStatusCode.OK, state.StatusCode);
        using var doc = JsonDocument.Parse(await state.Content.ReadAsStringAsync());
        Assert.Equal("b", doc.RootElement.GetProperty("camera").GetString());
        using var snapshot = await server.Http.GetAsync("/cams/b/snapshot.jpg");
        Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);
        Assert.Equal((160, 120), Jpeg.Decode(await snapshot.Content.ReadAsByteArrayAsync()));
    }

    [Theory]
    [InlineData("Front=test")]
    [InlineData("a b=test")]
    [InlineData("=test")]
    [InlineData("this-name-is-far-too-long-for-a-camera=test")]
    [InlineData("x=nonsense")]
    public async Task Bad_camera_flags_exit_with_code_2(string value)
    {
        var (code, output) = await ProcessServer.RunAsync(["--camera", value]);
        Assert.Equal(2, code);
        Assert.Contains("--camera", output);
    }

    [Fact]
    public async Task The_same_name_twice_exits_with_code_2()
    {
        var (code, output) = await ProcessServer.RunAsync(["--camera", "a=test", "--camera", "a=test"]);
        Assert.Equal(2, code);
        Assert.Contains("used twice", output);
    }

    internal static async Task<List<(long Seq, string Hash, double Timestamp)>> CollectMjpegAsync(string url, CancellationToken stop)
    {
        var frames = new List<(long, string, double)>();
        await using var client = await MjpegClient.ConnectAsync(url);
        try
        {
            while (true)
            {
                var part = await client.ReadPartAsync(stop);
                frames.Add((part.Sequence, HubTap.Hash(part.Body), part.Timestamp));
            }
        }
        catch (OperationCanceledException)
        {
        }
        return frames;
    }

    internal static async Task<List<(long Seq, string Hash, double Timestamp)>> CollectWebSocketAsync(Uri url, CancellationToken stop)
    {
        var frames = new List<(long, string, double)>();
        await using var viewer = await WebSocketViewer.ConnectAsync(url);
        try
        {
            while (await viewer.ReadFrameAsync(stop) is { } frame)
            {
                frames.Add((frame.Sequence!.Value, HubTap.Hash(frame.Jpeg), frame.Timestamp!.Value));
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or System.Net.WebSockets.WebSocketException)
        {
        }
        return frames;
    }
}
