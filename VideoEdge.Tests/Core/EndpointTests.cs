using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

public sealed class EndpointTests : IAsyncLifetime
{
    private EdgeTestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "320x240", "--quality", "70");
        await _server.WaitForFramesAsync(2);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("/snapshot.jpg")]
    [InlineData("/snapshot.jpg?fresh=1")]
    [InlineData("/?action=snapshot")]
    [InlineData("/cams/main/snapshot.jpg")]
    public async Task Snapshot_is_a_jpeg_with_length_timestamp_and_no_store(string path)
    {
        using var response = await _server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/jpeg", response.Content.Headers.ContentType!.MediaType);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        Assert.Equal((320, 240), Jpeg.Decode(body));
        Assert.True(response.Headers.CacheControl!.NoStore);
        Assert.True(response.Headers.Contains("X-Timestamp"));
    }

    [Fact]
    public async Task Fresh_snapshot_is_newer_than_the_frame_current_at_request_time()
    {
        var before = _server.Camera.Hub.LatestSequence;
        using var response = await _server.Http.GetAsync("/snapshot.jpg?fresh=1");
        var sequence = long.Parse(response.Headers.GetValues("X-Frame-Sequence").Single());
        Assert.True(sequence > before, $"fresh snapshot {sequence} is not newer than {before}");
    }

    [Theory]
    [InlineData("/snapshot.jpg", "image/jpeg")]
    [InlineData("/stream.mjpg", "multipart/x-mixed-replace")]
    [InlineData("/?action=stream", "multipart/x-mixed-replace")]
    [InlineData("/", "text/html")]
    public async Task Head_answers_with_headers_and_no_body(string path, string mediaType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, path);
        using var response = await _server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType!.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Mjpg_streamer_stream_alias_streams()
    {
        await using var client = await MjpegClient.ConnectAsync(_server.BaseUrl + "/?action=stream");
        var part = await client.ReadPartAsync();
        Assert.True(Jpeg.HasMarkers(part.Body));
        Assert.Equal("multipart/x-mixed-replace", client.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("/stream.mjpg?fps=abc")]
    [InlineData("/stream.mjpg?fps=-1")]
    [InlineData("/stream.mjpg?fps=0")]
    [InlineData("/stream.mjpg?fps=1e9")]
    [InlineData("/stream.mjpg?fps=0.0000001")]
    [InlineData("/stream.mjpg?fps=0.09")]
    [InlineData("/ws?fps=0.0000001")]
    [InlineData("/stream.mjpg?fps=NaN")]
    [InlineData("/stream.mjpg?fps=1&fps=2")]
    [InlineData("/ws?fps=abc")]
    [InlineData("/snapshot.jpg?fresh=maybe")]
    [InlineData("/?action=explode")]
    public async Task Bad_query_values_get_400_problem_json_and_the_stream_goes_on(string path)
    {
        await using var viewer = await MjpegClient.ConnectAsync(_server.BaseUrl + "/stream.mjpg");
        var before = (await viewer.ReadPartAsync()).Sequence;

        using var response = await _server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));

        var after = (await viewer.ReadPartAsync()).Sequence;
        Assert.Equal(before + 1, after);
    }

    [Theory]
    [InlineData("0.0000001")]
    [InlineData("0.05")]
    public async Task A_websocket_asking_for_a_tiny_fps_is_refused_with_400_before_the_upgrade(string fps)
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() =>
            socket.ConnectAsync(new Uri(_server.WebSocketBase, "/ws?fps=" + fps), CancellationToken.None));
        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task The_slowest_fps_cap_streams()
    {
        await using var viewer = await MjpegClient.ConnectAsync(_server.BaseUrl + "/stream.mjpg?fps=0.1");
        Assert.True(Jpeg.HasMarkers((await viewer.ReadPartAsync()).Body));
    }

    [Fact]
    public async Task Websocket_endpoint_without_upgrade_is_a_400()
    {
        using var response = await _server.Http.GetAsync("/ws");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Plain_websocket_sends_only_binary_jpeg_messages()
    {
        await using var viewer = await WebSocketViewer.ConnectAsync(new Uri(_server.WebSocketBase, "/ws"));
        for (var i = 0; i < 3; i++)
        {
            var frame = await viewer.ReadFrameAsync();
            Assert.NotNull(frame);
            Assert.Null(frame.Sequence);
            Assert.Equal((320, 240), Jpeg.Decode(frame.Jpeg));
        }
    }

    [Fact]
    public async Task Unknown_camera_is_a_404_naming_the_known_ones()
    {
        using var response = await _server.Http.GetAsync("/cams/garage/stream.mjpg");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("main", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task State_reports_source_counters_pool_and_each_client()
    {
        await using var mjpeg = await MjpegClient.ConnectAsync(_server.BaseUrl + "/stream.mjpg");
        await mjpeg.ReadPartAsync();
        await using var ws = await WebSocketViewer.ConnectAsync(new Uri(_server.WebSocketBase, "/ws"));
        await ws.ReadFrameAsync();
        await Task.Delay(1200);

        using var state = JsonDocument.Parse(await _server.Http.GetStringAsync("/api/state"));
        var root = state.RootElement;
        var source = root.GetProperty("source");
        Assert.Equal("test", source.GetProperty("kind").GetString());
        Assert.Equal(320, source.GetProperty("width").GetInt32());
        Assert.Equal(240, source.GetProperty("height").GetInt32());
        Assert.Equal(10, source.GetProperty("configuredFps").GetDouble());
        Assert.InRange(source.GetProperty("measuredFps").GetDouble(), 5, 15);
        Assert.True(source.GetProperty("online").GetBoolean());
        Assert.Equal(70, root.GetProperty("encoder").GetProperty("quality").GetInt32());
        var frames = root.GetProperty("frames");
        Assert.True(frames.GetProperty("captured").GetInt64() >= frames.GetProperty("encoded").GetInt64());
        Assert.True(frames.GetProperty("encoded").GetInt64() > 10);
        var pool = root.GetProperty("pool");
        Assert.Equal(pool.GetProperty("rented").GetInt64() - pool.GetProperty("returned").GetInt64(), pool.GetProperty("outstanding").GetInt64());
        Assert.Equal(0, pool.GetProperty("misuse").GetInt64());
        var clients = root.GetProperty("clients").EnumerateArray().ToList();
        Assert.Equal(2, clients.Count);
        Assert.Equal(["mjpeg", "websocket"], clients.Select(c => c.GetProperty("transport").GetString()).Order());
        foreach (var c in clients)
        {
            Assert.StartsWith("127.0.0.1:", c.GetProperty("remote").GetString());
            Assert.True(c.GetProperty("framesSent").GetInt64() >= 1);
            Assert.InRange(c.GetProperty("fps").GetDouble(), 3, 15);
            Assert.True(c.TryGetProperty("connectedSince", out _));
            Assert.True(c.TryGetProperty("framesSkipped", out _));
        }
        Assert.True(root.GetProperty("process").GetProperty("workingSetBytes").GetInt64() > 0);
    }

    [Fact]
    public async Task Viewer_page_is_served_and_self_contained()
    {
        var html = await _server.Http.GetStringAsync("/");
        Assert.Contains("<html", html);
        Assert.DoesNotContain("https://", html);
        Assert.DoesNotContain("http://", html);
    }
}
