using System.Net;
using System.Net.WebSockets;
using VideoEdge.Remote;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>/cams/NAME/ingest from the producer's side: frames in, pause/resume out, bad input refused.</summary>
[Collection(TimingSensitive.Name)]
public sealed class IngestTests
{
    private const string Token = "s3cret-ingest-token";

    private static Task<EdgeTestServer> StartHubAsync(params string[] extra) =>
        EdgeTestServer.StartAsync([.. "--camera cam=remote --ingest-token".Split(' '), Token, "--resolution", "320x240", .. extra]);

    [Fact]
    public async Task Pushed_frames_reach_every_viewer_byte_identical_and_in_order()
    {
        await using var hub = await StartHubAsync();
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        Assert.Equal("pause", await producer.NextControlAsync(5));

        await using var mjpeg = await MjpegClient.ConnectAsync(hub.BaseUrl + "/cams/cam/stream.mjpg");
        await using var ws = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
        Assert.Equal("resume", await producer.NextControlAsync(5));

        var jpegs = MjpegStreams.Jpegs(20);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var mjpegFrames = new List<string>();
        var wsFrames = new List<string>();
        var collecting = Task.WhenAll(
            CollectAsync(async t => (await mjpeg.ReadPartAsync(t)).Body, jpegs, mjpegFrames, stop.Token),
            CollectAsync(async t => (await ws.ReadAsync(t)).Jpeg, jpegs, wsFrames, stop.Token));
        // Each frame once both viewers have the one before: what arrives must be exactly what was sent.
        for (var i = 0; i < jpegs.Count; i++)
        {
            await producer.SendAsync(jpegs[i]);
            await ChainTests.WaitUntilAsync(() => Count(mjpegFrames) > i && Count(wsFrames) > i, $"both viewers got frame {i}", 10);
        }
        await collecting;
        Assert.Equal(jpegs.Select(HubTap.Hash), mjpegFrames);
        Assert.Equal(jpegs.Select(HubTap.Hash), wsFrames);

        var stats = hub.Camera.Stats;
        Assert.Equal(20, stats.Passthrough);
        Assert.Equal(0, stats.Dropped);
        var camera = await RelayTests.CameraAsync(hub, "cam");
        Assert.Equal("remote", camera.GetProperty("kind").GetString());
        Assert.True(camera.GetProperty("online").GetBoolean());
        Assert.Equal(96, camera.GetProperty("width").GetInt32());
    }

    [Fact]
    public async Task Pause_and_resume_are_sent_when_the_viewers_change_and_only_then()
    {
        await using var hub = await StartHubAsync();
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        Assert.Equal("pause", await producer.NextControlAsync(5));
        Assert.Null(await producer.NextControlAsync(1.5));

        var first = await MjpegClient.ConnectAsync(hub.BaseUrl + "/cams/cam/stream.mjpg");
        Assert.Equal("resume", await producer.NextControlAsync(5));
        await using (var second = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam"))
        {
            // The server counts a WebSocket viewer once its upgrade has gone out, a moment after the
            // client sees it: only then is the hand-over from the first viewer seamless.
            var camera = hub.Cameras.All.Single(c => c.Name == "cam");
            for (var waited = 0; camera.Hub.ViewerCount < 2; waited += 20)
            {
                Assert.True(waited < 5000, "the second viewer was never counted");
                await Task.Delay(20);
            }
            await first.DisposeAsync();
            // Someone is still watching: nothing to say, however long we wait.
            Assert.Null(await producer.NextControlAsync(2.5));
        }
        Assert.Equal("pause", await producer.NextControlAsync(5));
        Assert.Null(await producer.NextControlAsync(1.5));

        // A snapshot wants one fresh frame: resume, and pause again once its demand lapses.
        var snapshot = hub.Http.GetAsync("/cams/cam/snapshot.jpg?fresh=1");
        Assert.Equal("resume", await producer.NextControlAsync(5));
        await producer.SendAsync(MjpegStreams.Jpegs(1)[0]);
        using (var response = await snapshot)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HubTap.Hash(MjpegStreams.Jpegs(1)[0]), HubTap.Hash(await response.Content.ReadAsByteArrayAsync()));
        }
        Assert.Equal("pause", await producer.NextControlAsync(6));
    }

    [Fact]
    public async Task A_snapshot_of_a_paused_producer_is_a_fresh_frame_not_the_one_from_before_the_pause()
    {
        // The snapshot waits while the producer hears "resume" and sends: 3 s by default, which a fully
        // loaded 2-core machine once exceeded; the assertion is about which frame, not how fast.
        await using var hub = await StartHubAsync("--snapshot-timeout", "15");
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        Assert.Equal("pause", await producer.NextControlAsync(5));
        var (before, after) = (MjpegStreams.Jpegs(2)[0], MjpegStreams.Jpegs(2)[1]);
        await using (var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam"))
        {
            Assert.Equal("resume", await producer.NextControlAsync(5));
            await producer.SendAsync(before);
            await viewer.ReadUntilAsync(f => f.Jpeg.SequenceEqual(before), 5);
        }
        Assert.Equal("pause", await producer.NextControlAsync(5));
        await Task.Delay(1200);

        var snapshot = hub.Http.GetAsync("/cams/cam/snapshot.jpg");
        Assert.Equal("resume", await producer.NextControlAsync(5));
        await producer.SendAsync(after);
        using var response = await snapshot;
        Assert.Equal(after, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task The_first_snapshot_of_a_paused_producer_on_a_fresh_hub_is_its_frame_not_the_no_signal_picture()
    {
        // The hub starts with no producer (no-signal published), the producer connects and is told to
        // pause at once: the latest frame is the no-signal picture, stale now that the camera is online.
        await using var hub = await StartHubAsync("--snapshot-timeout", "15");
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        Assert.Equal("pause", await producer.NextControlAsync(5));
        var jpeg = MjpegStreams.Jpegs(1)[0];

        var snapshot = hub.Http.GetAsync("/cams/cam/snapshot.jpg");
        Assert.Equal("resume", await producer.NextControlAsync(5));
        await producer.SendAsync(jpeg);
        using var response = await snapshot;
        Assert.Equal(jpeg, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_producer_that_goes_away_turns_into_no_signal_within_a_second_for_connected_viewers()
    {
        await using var hub = await StartHubAsync();
        await using var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
        var jpeg = MjpegStreams.Jpegs(1)[0];
        var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        await producer.SendAsync(jpeg);
        await viewer.ReadUntilAsync(f => !f.NoSignal && f.Jpeg.SequenceEqual(jpeg), 5);

        var gone = DateTime.UtcNow;
        producer.Socket.Abort();
        var noSignal = await viewer.ReadUntilAsync(f => f.NoSignal, 5);
        Assert.True(noSignal.ReceivedUtc - gone < TimeSpan.FromSeconds(1), $"no-signal after {(noSignal.ReceivedUtc - gone).TotalMilliseconds:0} ms");
        Assert.Equal((320, 240), Jpeg.Decode(noSignal.Jpeg));
        Assert.Equal("producer disconnected", hub.Camera.Capture.OfflineReason);
        await producer.DisposeAsync();

        // Still no-signal, once a second, until a producer returns; then live again on the same connection.
        await viewer.ReadUntilAsync(f => f.NoSignal && f.Sequence > noSignal.Sequence, 3);
        await using var back = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        await back.SendAsync(jpeg);
        await viewer.ReadUntilAsync(f => !f.NoSignal && f.Jpeg.SequenceEqual(jpeg), 5);
        Assert.True(hub.Camera.Capture.Online);
    }

    [Fact]
    public async Task Without_the_right_token_the_ingest_is_refused()
    {
        await using var hub = await StartHubAsync("--camera", "local=test");
        Assert.Equal(HttpStatusCode.Unauthorized, await TestProducer.RejectionAsync(hub.WebSocketBase, "cam", null));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestProducer.RejectionAsync(hub.WebSocketBase, "cam", "wrong-token-123"));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestProducer.RejectionAsync(hub.WebSocketBase, "cam", Token + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, await TestProducer.RejectionAsync(hub.WebSocketBase, "cam", "wrong-token-123", asQuery: true));
        Assert.Equal(HttpStatusCode.NotFound, await TestProducer.RejectionAsync(hub.WebSocketBase, "nope", Token));
        Assert.Equal(HttpStatusCode.Conflict, await TestProducer.RejectionAsync(hub.WebSocketBase, "local", Token));
        Assert.False(hub.Camera.Capture.Online);

        using var plain = await hub.Http.GetAsync("/cams/cam/ingest");
        Assert.Equal(HttpStatusCode.Unauthorized, plain.StatusCode);
        Assert.Equal("Bearer", plain.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", plain.Content.Headers.ContentType?.MediaType);

        // The token as a query parameter (browsers cannot set headers on a WebSocket) works too.
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token, asQuery: true);
        Assert.Equal("pause", await producer.NextControlAsync(5));
        // One producer per camera: a second one is told so.
        Assert.Equal(HttpStatusCode.Conflict, await TestProducer.RejectionAsync(hub.WebSocketBase, "cam", Token));
    }

    [Fact]
    public async Task On_a_hub_with_viewer_credentials_producers_use_the_ingest_token_and_viewers_theirs()
    {
        await using var hub = await StartHubAsync("--auth-token", "viewer-secret-1");
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        Assert.Equal("pause", await producer.NextControlAsync(5));
        using var anonymous = await hub.Http.GetAsync("/cams/cam/snapshot.jpg");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        // The viewer token does not open the ingest, nor the ingest token the streams.
        Assert.Equal(HttpStatusCode.Unauthorized, await TestProducer.RejectionAsync(hub.WebSocketBase, "cam", "viewer-secret-1"));
        using var withIngestToken = await hub.Http.GetAsync("/cams/cam/snapshot.jpg?token=" + Token);
        Assert.Equal(HttpStatusCode.Unauthorized, withIngestToken.StatusCode);

        var snapshot = hub.Http.GetAsync("/cams/cam/snapshot.jpg?fresh=1&token=viewer-secret-1");
        Assert.Equal("resume", await producer.NextControlAsync(5));
        var jpeg = MjpegStreams.Jpegs(1)[0];
        await producer.SendAsync(jpeg);
        using var response = await snapshot;
        Assert.Equal(jpeg, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Without_an_ingest_token_ingest_is_off()
    {
        await using var hub = await EdgeTestServer.StartAsync("--camera", "cam=test", "--fps", "5");
        Assert.Equal(HttpStatusCode.Forbidden, await TestProducer.RejectionAsync(hub.WebSocketBase, "cam", Token));
        using var response = await hub.Http.GetAsync("/cams/cam/ingest");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("--ingest-token", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_remote_camera_without_an_ingest_token_exits_with_code_2()
    {
        var (code, output) = await ProcessServer.RunAsync(["--camera", "cam=remote"]);
        Assert.Equal(2, code);
        Assert.Contains("--ingest-token", output);
        (code, output) = await ProcessServer.RunAsync(["--camera", "cam=remote", "--ingest-token", "short"]);
        Assert.Equal(2, code);
        Assert.Contains("at least 8", output);
    }

    [Fact]
    public async Task Garbage_is_counted_and_dropped_and_a_producer_sending_only_garbage_is_closed()
    {
        await using var hub = await StartHubAsync();
        await using var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        var jpeg = MjpegStreams.Jpegs(1)[0];
        byte[][] garbage = ["not a jpeg"u8.ToArray(), jpeg[..^10], [0xFF, 0xD8, 0xFF, 0xD9], jpeg[2..]];
        foreach (var bad in garbage)
        {
            await producer.SendAsync(bad);
        }
        await producer.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text);
        await producer.SendAsync(jpeg);
        // The good frame after the bad ones gets through, and only it.
        var frame = await viewer.ReadUntilAsync(f => !f.NoSignal, 5);
        Assert.Equal(jpeg, frame.Jpeg);
        Assert.Equal(5, hub.Camera.Stats.Dropped);
        Assert.Equal(1, hub.Camera.Stats.Passthrough);
        Assert.Equal(WebSocketState.Open, producer.Socket.State);

        for (var i = 0; i < IngestEndpoint.MaxInvalidInARow; i++)
        {
            await producer.SendAsync(garbage[i % garbage.Length]);
        }
        await producer.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, producer.CloseStatus);
        Assert.Equal(5 + IngestEndpoint.MaxInvalidInARow, hub.Camera.Stats.Dropped);
        await ChainTests.WaitUntilAsync(() => !hub.Camera.Capture.Online, "the camera went offline");
    }

    /// <summary>Messages are received straight into pooled frames sized from the one before: a bigger one must arrive whole.</summary>
    [Fact]
    public async Task Frames_much_larger_than_the_one_before_arrive_whole()
    {
        await using var hub = await StartHubAsync();
        await using var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        var small = MjpegStreams.Jpegs(1)[0];
        foreach (var size in new[] { 0, 200 * 1024, 1300 * 1024, 0 })
        {
            // The small JPEG's headers and data, then filler before its EOI: still one valid-looking JPEG.
            var jpeg = small;
            if (size > 0)
            {
                jpeg = new byte[size];
                small.AsSpan(0, small.Length - 2).CopyTo(jpeg);
                Random.Shared.NextBytes(jpeg.AsSpan(small.Length - 2, size - small.Length));
                jpeg.AsSpan(small.Length - 2, size - small.Length).Replace((byte)0xFF, (byte)0x00);
                jpeg[^2] = 0xFF;
                jpeg[^1] = 0xD9;
            }
            await producer.SendAsync(jpeg);
            Assert.Equal(HubTap.Hash(jpeg), HubTap.Hash((await viewer.ReadUntilAsync(f => !f.NoSignal && f.Jpeg.Length == jpeg.Length, 10)).Jpeg));
        }
        Assert.Equal(0, hub.Camera.Stats.Dropped);
        Assert.Equal(0, hub.Camera.Pool.Misuse);
    }

    [Fact]
    public async Task Frames_over_max_frame_bytes_are_dropped_and_a_flood_of_them_is_closed()
    {
        await using var hub = await StartHubAsync("--max-frame-bytes", "64K");
        await using var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        var small = MjpegStreams.Jpegs(1)[0];
        var big = new byte[100 * 1024];
        small.AsSpan(0, small.Length - 2).CopyTo(big);
        big[^2] = 0xFF;
        big[^1] = 0xD9;

        await producer.SendAsync(big);
        await producer.SendAsync(small);
        Assert.Equal(small, (await viewer.ReadUntilAsync(f => !f.NoSignal, 5)).Jpeg);
        Assert.Equal(1, hub.Camera.Stats.Dropped);

        // Past four times the cap a message is not even drained: the producer is cut off at once.
        var huge = new byte[300 * 1024];
        await producer.SendAsync(huge);
        await producer.Closed.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, producer.CloseStatus);
        Assert.Equal(2, hub.Camera.Stats.Dropped);
    }

    private static int Count(List<string> frames)
    {
        lock (frames)
        {
            return frames.Count;
        }
    }

    /// <summary>Collects the hashes of the frames from the producer's first one on, until all have come.</summary>
    private static async Task CollectAsync(Func<CancellationToken, Task<byte[]>> read, IReadOnlyList<byte[]> expected, List<string> into, CancellationToken cancellation)
    {
        var first = HubTap.Hash(expected[0]);
        while (Count(into) < expected.Count)
        {
            var hash = HubTap.Hash(await read(cancellation));
            // Frames before the producer's first one are the no-signal picture.
            if (Count(into) > 0 || hash == first)
            {
                lock (into)
                {
                    into.Add(hash);
                }
            }
        }
    }
}
