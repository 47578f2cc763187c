using System.Net;
using System.Text.Json;
using OpenCvSharp;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Variants;

/// <summary>
/// ?width= and ?quality= on /stream.mjpg, /ws and /snapshot.jpg (issue 14): real Kestrel on loopback,
/// real clients, the pictures decoded to check their size; encode counts from /api/state.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class VariantTests
{
    private static Task<EdgeTestServer> StartAsync(params string[] extra) =>
        EdgeTestServer.StartAsync(["--source", "test", "--resolution", "1280x720", "--fps", "15", .. extra]);

    private static (int Width, int Height) SizeOf(byte[] jpeg)
    {
        using var image = Cv2.ImDecode(jpeg, ImreadModes.Color);
        Assert.False(image.Empty(), "not a decodable JPEG");
        return (image.Width, image.Height);
    }

    private static async Task<JsonElement> StateAsync(EdgeTestServer server)
    {
        using var doc = JsonDocument.Parse(await server.Http.GetStringAsync("/api/state"));
        return doc.RootElement.Clone();
    }

    [Fact]
    public async Task StreamWebSocketAndSnapshotServeTheWidthAskedForWithTheAspectRatio()
    {
        await using var server = await StartAsync();
        await server.WaitForFramesAsync();
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        await using (var mjpeg = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg?width=320", window.Token))
        {
            for (var i = 0; i < 3; i++)
            {
                var part = await mjpeg.ReadPartAsync(window.Token);
                Assert.Equal((320, 180), SizeOf(part.Body));
                Assert.True(part.Timestamp > 0, "a variant frame keeps its capture time");
            }
            var state = await StateAsync(server);
            var variant = Assert.Single(state.GetProperty("variants").EnumerateArray());
            Assert.Equal(320, variant.GetProperty("width").GetInt32());
            Assert.Equal(180, variant.GetProperty("height").GetInt32());
            Assert.Equal(1, variant.GetProperty("viewers").GetInt32());
            // The variant's viewer is listed; the variant's own feed from the camera is not.
            var client = Assert.Single(state.GetProperty("clients").EnumerateArray());
            Assert.Equal("mjpeg", client.GetProperty("transport").GetString());
            Assert.Equal("320w q80", client.GetProperty("variant").GetString());
        }

        await using (var ws = await WebSocketViewer.ConnectAsync(new Uri(server.WebSocketBase, "/ws?width=641&quality=40"), window.Token))
        {
            var frame = await ws.ReadFrameAsync(window.Token);
            // Odd widths are made even; so is the height.
            Assert.Equal((640, 360), SizeOf(frame!.Jpeg));
        }

        var snapshot = await server.Http.GetAsync("/snapshot.jpg?width=100");
        Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);
        Assert.Equal((100, 56), SizeOf(await snapshot.Content.ReadAsByteArrayAsync()));
        Assert.True(snapshot.Headers.Contains("X-Timestamp"));

        // A width past the camera's does not enlarge the picture; quality alone re-encodes at full size.
        var big = await server.Http.GetByteArrayAsync("/snapshot.jpg?width=4000&quality=30");
        var full = await server.Http.GetByteArrayAsync("/snapshot.jpg?quality=95");
        Assert.Equal((1280, 720), SizeOf(big));
        Assert.Equal((1280, 720), SizeOf(full));
        Assert.True(big.Length < full.Length, $"quality 30 ({big.Length} B) should be smaller than quality 95 ({full.Length} B)");
    }

    [Theory]
    [InlineData("/stream.mjpg?width=0")]
    [InlineData("/stream.mjpg?width=abc")]
    [InlineData("/stream.mjpg?width=99999")]
    [InlineData("/stream.mjpg?width=-320")]
    [InlineData("/stream.mjpg?width=320&width=640")]
    [InlineData("/snapshot.jpg?quality=0")]
    [InlineData("/snapshot.jpg?quality=101")]
    [InlineData("/snapshot.jpg?quality=50.5")]
    [InlineData("/ws?width=8")]
    public async Task OutOfRangeValuesAreRefusedWithAProblem(string path)
    {
        await using var server = await StartAsync();
        var response = await server.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var state = await StateAsync(server);
        Assert.Empty(state.GetProperty("variants").EnumerateArray());
    }

    /// <summary>Three viewers of one variant share its frames: one encode per frame, not per viewer.</summary>
    [Fact]
    public async Task AVariantIsEncodedOnceHoweverManyViewersShareIt()
    {
        await using var server = await StartAsync();
        await server.WaitForFramesAsync();
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var viewers = new List<MjpegClient>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                viewers.Add(await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg?width=320&quality=60", window.Token));
            }
            var received = new long[3];
            await Task.WhenAll(viewers.Select(async (v, i) =>
            {
                for (var n = 0; n < 30; n++)
                {
                    await v.ReadPartAsync(window.Token);
                    received[i]++;
                }
            }));
            var state = await StateAsync(server);
            var variant = Assert.Single(state.GetProperty("variants").EnumerateArray());
            Assert.Equal(3, variant.GetProperty("viewers").GetInt32());
            var encodes = variant.GetProperty("encodes").GetInt64();
            // 90 frames delivered from at most ~35 encodes (30 each plus the ones made while they read).
            Assert.True(encodes <= received.Max() + 8 && encodes < received.Sum() * 0.6,
                $"{encodes} encodes for {received.Sum()} frames delivered to 3 viewers");
        }
        finally
        {
            foreach (var v in viewers)
            {
                await v.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// Pull: a viewer that takes 2 frames a second from a 15 fps camera costs about 2 encodes a
    /// second. When it leaves, the variant is dropped and nothing more is encoded; no frame leaks.
    /// </summary>
    [Fact]
    public async Task EncodesFollowWhatViewersTakeAndStopWhenNobodyWatches()
    {
        await using var server = await StartAsync();
        await server.WaitForFramesAsync();
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var publishedBefore = server.Camera.Hub.LatestSequence;
        long sent = 0;
        await using (var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg?width=320&fps=2", window.Token))
        {
            for (var i = 0; i < 10; i++)
            {
                await viewer.ReadPartAsync(window.Token);
                sent++;
            }
            var variant = Assert.Single(server.Camera.Variants.Active);
            var published = server.Camera.Hub.LatestSequence - publishedBefore;
            Assert.True(variant.Encodes <= sent + 3, $"{variant.Encodes} encodes for {sent} frames the viewer took ({published} camera frames)");
            Assert.True(published > variant.Encodes * 2, $"{variant.Encodes} encodes while the camera published {published}: not pulled");
        }
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (server.Camera.Variants.Active.Count > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the variant was not dropped after its viewer left");
            await Task.Delay(50);
        }
        var total = server.Camera.Variants.EncodesTotal;
        Assert.True(total >= sent);
        await Task.Delay(1000);
        Assert.Equal(total, server.Camera.Variants.EncodesTotal);
        var state = await StateAsync(server);
        Assert.Empty(state.GetProperty("variants").EnumerateArray());
        Assert.Equal(0, state.GetProperty("viewers").GetInt32());
        // Only the camera's latest frame is held: the variant gave back everything it had.
        Assert.Equal(1, state.GetProperty("pool").GetProperty("outstanding").GetInt64());
        Assert.Equal(0, state.GetProperty("pool").GetProperty("misuse").GetInt64());
        var metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Contains("videoedge_variants{camera=\"main\"} 0", metrics, StringComparison.Ordinal);
        Assert.Contains($"videoedge_variant_frames_encoded_total{{camera=\"main\"}} {total}", metrics, StringComparison.Ordinal);
    }

    /// <summary>
    /// ?adapt=1 starts small (the rate is not known yet) and, on loopback, climbs to the camera's own
    /// picture within seconds and stays there; ?width= with ?adapt= is refused.
    /// </summary>
    [Fact]
    public async Task AnAdaptiveViewerOnAFastLinkClimbsToTheFullPictureAndStays()
    {
        await using var server = await StartAsync();
        await server.WaitForFramesAsync();
        using var window = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using (var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg?adapt=1", window.Token))
        {
            var first = SizeOf((await viewer.ReadPartAsync(window.Token)).Body);
            Assert.Equal((640, 360), first);
            var sizes = new List<(int, int)> { first };
            while (sizes[^1] != (1280, 720))
            {
                sizes.Add(SizeOf((await viewer.ReadPartAsync(window.Token)).Body));
            }
            for (var i = 0; i < 30; i++)
            {
                Assert.Equal((1280, 720), SizeOf((await viewer.ReadPartAsync(window.Token)).Body));
            }
        }
        using var refused = await server.Http.GetAsync("/stream.mjpg?adapt=1&width=320");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        using var badAge = await server.Http.GetAsync("/stream.mjpg?adapt=1&maxage=0");
        Assert.Equal(HttpStatusCode.BadRequest, badAge.StatusCode);
    }

    /// <summary>A frame declaring more pixels than --max-frame-pixels is never decoded for a variant.</summary>
    [Fact]
    public async Task DecompressionBombsAreRefusedBeforeDecoding()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--resolution", "640x480", "--fps", "15",
            "--max-frame-pixels", "320x240", "--snapshot-timeout", "2");
        await server.WaitForFramesAsync();
        var response = await server.Http.GetAsync("/snapshot.jpg?width=160");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        // The camera's own frames are unaffected (no transform: nothing decodes them).
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/snapshot.jpg")).StatusCode);
        await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg?width=160");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var variant = Assert.Single((await StateAsync(server)).GetProperty("variants").EnumerateArray());
            if (variant.GetProperty("refused").GetInt64() >= 3)
            {
                Assert.Equal(0, variant.GetProperty("encodes").GetInt64());
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "frames over --max-frame-pixels were not refused");
            await Task.Delay(100);
        }
    }
}
