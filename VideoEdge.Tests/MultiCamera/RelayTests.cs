using System.Net;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>mjpeg+http:// cameras: other servers' MJPEG re-served byte for byte, through faults and restarts.</summary>
public sealed class RelayTests
{
    public static TheoryData<string> Styles() => ["ustreamer", "mjpg-streamer", "quoted boundary", "no Content-Length", "bare LF", "undeclared boundary"];

    [Theory]
    [MemberData(nameof(Styles))]
    public async Task Relayed_frames_are_the_upstream_jpegs_byte_for_byte(string style)
    {
        var jpegs = MjpegStreams.Jpegs();
        await using var upstream = new RecordedStreamServer(MjpegStreams.AllStyles.Select(s => s(jpegs)).Single(s => s.Name == style));
        await using var server = await EdgeTestServer.StartAsync("--camera", "cam=mjpeg+" + upstream.Url, "--resolution", "320x240");
        await server.WaitForFramesAsync(1);
        await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/cam/stream.mjpg");

        var received = new List<byte[]>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (received.Count < 12)
        {
            received.Add((await viewer.ReadPartAsync(timeout.Token)).Body);
        }
        var known = jpegs.Select(HubTap.Hash).ToList();
        Assert.All(received, body => Assert.Contains(HubTap.Hash(body), known));
        Assert.Equal(jpegs.Count, received.Select(HubTap.Hash).Distinct().Count());

        var stats = server.Camera.Stats;
        Assert.Equal(0, stats.Encoded);
        Assert.Equal(0, stats.Decoded);
        Assert.Equal(0, stats.Dropped);
        Assert.True(stats.Passthrough >= 12);
        var camera = await CameraAsync(server, "cam");
        Assert.Equal("relay", camera.GetProperty("kind").GetString());
        Assert.Equal(96, camera.GetProperty("width").GetInt32());
        Assert.Equal(64, camera.GetProperty("height").GetInt32());
    }

    [Fact]
    public async Task Parts_that_are_not_whole_jpegs_are_dropped_and_counted()
    {
        var jpegs = MjpegStreams.Jpegs(3);
        byte[] truncated = jpegs[1][..^20];
        byte[] html = "<html>oops</html>"u8.ToArray();
        await using var upstream = new RecordedStreamServer(MjpegStreams.UStreamer([jpegs[0], truncated, html, jpegs[2]]));
        await using var server = await EdgeTestServer.StartAsync("--camera", "cam=mjpeg+" + upstream.Url);
        await server.WaitForFramesAsync(6);
        var stats = server.Camera.Stats;
        Assert.True(stats.Dropped >= 4, $"dropped {stats.Dropped}");
        Assert.InRange(stats.Dropped, stats.Captured - 1, stats.Captured + 3);
        using var snapshot = await server.Http.GetAsync("/cams/cam/snapshot.jpg");
        Assert.Contains(HubTap.Hash(await snapshot.Content.ReadAsByteArrayAsync()), new[] { jpegs[0], jpegs[2] }.Select(HubTap.Hash));
    }

    [Fact]
    public async Task A_dropped_upstream_shows_no_signal_to_connected_viewers_and_is_reconnected()
    {
        var jpegs = MjpegStreams.Jpegs();
        await using var upstream = new RecordedStreamServer(MjpegStreams.MjpgStreamer(jpegs), fps: 20, closeAfterParts: 10);
        await using var server = await EdgeTestServer.StartAsync("--camera", "cam=mjpeg+" + upstream.Url, "--resolution", "320x240");
        await server.WaitForFramesAsync(1);
        await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/cam/stream.mjpg");
        var known = jpegs.Select(HubTap.Hash).ToHashSet();

        // Upstream frames, then the no-signal picture at the camera's size, then upstream frames again.
        var phases = new List<bool>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (phases.Count(p => p) < 25 || !phases.Contains(false))
        {
            var part = await viewer.ReadPartAsync(timeout.Token);
            var relayed = known.Contains(HubTap.Hash(part.Body));
            if (!relayed)
            {
                Assert.Equal((320, 240), Jpeg.Decode(part.Body));
            }
            phases.Add(relayed);
        }
        var firstGap = phases.IndexOf(false);
        Assert.True(firstGap > 0 && phases.Skip(firstGap).Contains(true), "expected relayed, no-signal, relayed again");
        Assert.True(upstream.Connections >= 2);
        Assert.True(server.Camera.Stats.NoSignalFrames >= 1);
    }

    [Theory]
    [InlineData("404 Not Found", null, "HTTP 404")]
    [InlineData("200 OK", "text/html", "not an MJPEG stream")]
    public async Task An_upstream_that_is_not_a_stream_is_reported_in_the_camera_list(string status, string? contentType, string reason)
    {
        var jpegs = MjpegStreams.Jpegs(1);
        await using var upstream = new RecordedStreamServer(MjpegStreams.UStreamer(jpegs), statusLine: status, contentType: contentType);
        await using var server = await EdgeTestServer.StartAsync("--camera", "cam=mjpeg+" + upstream.Url);
        var camera = await CameraAsync(server, "cam");
        Assert.False(camera.GetProperty("online").GetBoolean());
        Assert.Contains(reason, camera.GetProperty("offlineReason").GetString());
        // Credentials never leak into what the API reports.
        Assert.DoesNotContain("secret", camera.ToString());
    }

    [Fact]
    public async Task Credentials_in_the_url_are_sent_as_basic_auth_and_never_shown()
    {
        var jpegs = MjpegStreams.Jpegs(1);
        await using var upstream = new RecordedStreamServer(MjpegStreams.UStreamer(jpegs));
        var url = upstream.Url.Replace("http://", "mjpeg+http://viewer:secret@", StringComparison.Ordinal);
        await using var server = await EdgeTestServer.StartAsync("--camera", "cam=" + url);
        await server.WaitForFramesAsync(2);
        Assert.Contains("Authorization: Basic " + Convert.ToBase64String("viewer:secret"u8), upstream.LastRequest);
        var state = await server.Http.GetStringAsync("/cams/cam/state");
        Assert.DoesNotContain("secret", state);
        using var doc = JsonDocument.Parse(state);
        Assert.StartsWith("mjpeg+http://127.0.0.1:", doc.RootElement.GetProperty("source").GetProperty("description").GetString());
    }

    [Theory]
    [InlineData("mjpeg+ftp://host/x")]
    [InlineData("mjpeg+http//host")]
    [InlineData("mjpeg+")]
    public async Task A_bad_relay_url_exits_with_code_2(string source)
    {
        var (code, output) = await ProcessServer.RunAsync(["--camera", "r=" + source]);
        Assert.Equal(2, code);
        Assert.Contains("--camera", output);
    }

    internal static async Task<JsonElement> CameraAsync(EdgeTestServer server, string name)
    {
        using var response = await server.Http.GetAsync("/api/cameras");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == name).Clone();
    }
}
