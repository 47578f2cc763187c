using System.Net;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>
/// The URLs users paste from mjpg-streamer setups (OctoPrint, motionEye): ?action=stream|snapshot
/// per camera, the multi-input ?action=stream_N|snapshot_N, and /cams/NAME/ itself.
/// </summary>
public sealed class MjpgStreamerUrlTests
{
    [Fact]
    public async Task Every_camera_answers_the_mjpg_streamer_urls_with_its_own_frames()
    {
        var jpegs = MjpegStreams.Jpegs(3);
        // Two relays, each of one known JPEG, so every answer can be traced to its camera byte for byte.
        await using var first = new RecordedStreamServer(MjpegStreams.UStreamer([jpegs[1]]));
        await using var second = new RecordedStreamServer(MjpegStreams.UStreamer([jpegs[2]]));
        await using var server = await EdgeTestServer.StartAsync("--camera", "door=mjpeg+" + first.Url, "--camera", "yard=mjpeg+" + second.Url);
        await server.WaitForFramesAsync(2, server.Cameras.All[0]);
        await server.WaitForFramesAsync(2, server.Cameras.All[1]);
        var door = HubTap.Hash(jpegs[1]);
        var yard = HubTap.Hash(jpegs[2]);

        Assert.Equal(door, await SnapshotAsync(server, "/cams/door/?action=snapshot"));
        Assert.Equal(yard, await SnapshotAsync(server, "/cams/yard/?action=snapshot"));
        Assert.Equal(yard, await SnapshotAsync(server, "/cams/yard?action=snapshot"));
        Assert.Equal(door, await SnapshotAsync(server, "/?action=snapshot_0"));
        Assert.Equal(yard, await SnapshotAsync(server, "/?action=snapshot_1"));
        Assert.Equal(door, await SnapshotAsync(server, "/?action=snapshot"));

        Assert.Equal(door, await FirstStreamPartAsync(server, "/cams/door/?action=stream"));
        Assert.Equal(yard, await FirstStreamPartAsync(server, "/cams/yard/?action=stream"));
        Assert.Equal(door, await FirstStreamPartAsync(server, "/?action=stream_0"));
        Assert.Equal(yard, await FirstStreamPartAsync(server, "/?action=stream_1"));
    }

    [Theory]
    [InlineData("/?action=stream_2", HttpStatusCode.NotFound, "0 = door, 1 = yard")]
    [InlineData("/?action=snapshot_7", HttpStatusCode.NotFound, "there is no input 7")]
    [InlineData("/?action=stream_x", HttpStatusCode.BadRequest, "stream_N")]
    [InlineData("/cams/yard/?action=stream_1", HttpStatusCode.BadRequest, "use stream or snapshot")]
    [InlineData("/cams/shed/?action=stream", HttpStatusCode.NotFound, "Known cameras: door, yard")]
    [InlineData("/cams/shed/", HttpStatusCode.NotFound, "Known cameras: door, yard")]
    public async Task Unknown_inputs_and_cameras_are_answered_with_what_exists(string path, HttpStatusCode status, string detail)
    {
        await using var server = await EdgeTestServer.StartAsync("--camera", "door=test", "--camera", "yard=test", "--fps", "5");
        using var response = await server.Http.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(detail, await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/cams/yard/", "../../#camera=yard")]
    [InlineData("/cams/yard", "../#camera=yard")]
    [InlineData("/cams/yard/?token=abc", "../../?token=abc#camera=yard")]
    public async Task A_camera_folder_opens_the_viewer_page_on_that_camera(string path, string location)
    {
        await using var server = await EdgeTestServer.StartAsync("--camera", "door=test", "--camera", "yard=test", "--fps", "5");
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(server.BaseUrl) };
        using var response = await noRedirects.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(location, response.Headers.Location?.OriginalString);

        // Relative, so it lands on the page wherever a proxy mounts the server; a browser follows it.
        var target = new Uri(new Uri(server.BaseUrl + path), response.Headers.Location!);
        Assert.Equal("/", target.AbsolutePath);
        using var page = await server.Http.GetAsync(target);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
    }

    private static async Task<string> SnapshotAsync(EdgeTestServer server, string path)
    {
        using var response = await server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType?.MediaType);
        return HubTap.Hash(await response.Content.ReadAsByteArrayAsync());
    }

    private static async Task<string> FirstStreamPartAsync(EdgeTestServer server, string path)
    {
        await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + path);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return HubTap.Hash((await viewer.ReadPartAsync(timeout.Token)).Body);
    }
}
