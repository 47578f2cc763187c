using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Push;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>`video-edge push` against a hub: real sources, pause/resume, a killed producer, reconnects.</summary>
[Collection(TimingSensitive.Name)]
public sealed class PushTests
{
    private const string Token = "s3cret-ingest-token";

    private static Task<EdgeTestServer> StartHubAsync() =>
        EdgeTestServer.StartAsync("--camera", "cam=remote", "--ingest-token", Token, "--resolution", "320x240");

    private static string IngestUrl(EdgeTestServer hub) => new Uri(hub.WebSocketBase, "/cams/cam/ingest").ToString();

    [Fact]
    public async Task A_paused_producer_stops_encoding_and_sending_and_resumes_for_a_viewer()
    {
        await using var hub = await StartHubAsync();
        var (options, error) = OptionsParser.Parse(["--source", "test", "--fps", "15", "--resolution", "256x192"], _ => null);
        Assert.True(options is not null, error);
        options!.Slowdown = true;
        using var producerCamera = new Camera("cam", SourceSpec.Test, options, NullLoggerFactory.Instance);
        producerCamera.Start();
        var client = new PushClient(producerCamera, new Uri(IngestUrl(hub)), Token, TimeSpan.FromSeconds(5), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var pushing = client.RunAsync(stop.Token);
        try
        {
            await ChainTests.WaitUntilAsync(() => client.Connected && hub.Camera.Capture.Online, "the producer connected");
            await AssertIdleAsync(hub, producerCamera, client);

            await using (var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam"))
            {
                var frame = await viewer.ReadUntilAsync(f => !f.NoSignal, 10);
                Assert.Equal((256, 192), Jpeg.Decode(frame.Jpeg));
                for (var i = 0; i < 10; i++)
                {
                    Assert.False((await viewer.ReadUntilAsync(_ => true, 5)).NoSignal);
                }
                Assert.False(client.Paused);
                Assert.True(client.Link.FramesSent >= 10);
            }
            await ChainTests.WaitUntilAsync(() => client.Paused, "the producer was paused after the viewer left");
            await AssertIdleAsync(hub, producerCamera, client);

            // Back again on the same connection.
            await using var again = await MjpegClient.ConnectAsync(hub.BaseUrl + "/cams/cam/stream.mjpg");
            var sent = client.Link.FramesSent;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            while (client.Link.FramesSent < sent + 5)
            {
                await again.ReadPartAsync(timeout.Token);
            }
            Assert.Equal(1, client.Connections);
        }
        finally
        {
            await stop.CancelAsync();
            await pushing;
        }
    }

    /// <summary>Paused: over a second and a half the producer neither encodes nor sends, and the hub receives nothing.</summary>
    private static async Task AssertIdleAsync(EdgeTestServer hub, Camera producer, PushClient client)
    {
        await ChainTests.WaitUntilAsync(() => client.Paused, "the producer is paused");
        await Task.Delay(300);
        var (encoded, sent, received) = (producer.Stats.Encoded, client.Link.FramesSent, hub.Camera.Stats.Captured);
        await Task.Delay(1500);
        Assert.Equal(encoded, producer.Stats.Encoded);
        Assert.Equal(sent, client.Link.FramesSent);
        Assert.Equal(received, hub.Camera.Stats.Captured);
        Assert.True(producer.Stats.Captured > 15, "the producer's source keeps capturing");
    }

    [Fact]
    public async Task A_killed_producer_shows_no_signal_within_a_second_and_its_return_goes_live_again()
    {
        await using var hub = await StartHubAsync();
        await using var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
        string[] push = ["push", "--source", "test", "--fps", "15", "--resolution", "320x240", "--to", IngestUrl(hub)];
        var environment = new Dictionary<string, string> { ["VIDEOEDGE_TOKEN"] = Token };

        var first = await ProcessServer.LaunchAsync(push, environment);
        try
        {
            var live = await viewer.ReadUntilAsync(f => !f.NoSignal, 60);
            Assert.Equal((320, 240), Jpeg.Decode(live.Jpeg));
            await viewer.ReadUntilAsync(f => !f.NoSignal && f.Sequence > live.Sequence + 5, 10);

            first.Process.Kill();
            var killed = DateTime.UtcNow;
            var noSignal = await viewer.ReadUntilAsync(f => f.NoSignal, 5);
            Assert.True(noSignal.ReceivedUtc - killed < TimeSpan.FromSeconds(1),
                $"no-signal {(noSignal.ReceivedUtc - killed).TotalMilliseconds:0} ms after the kill");
            Assert.Equal("producer disconnected", hub.Camera.Capture.OfflineReason);
        }
        finally
        {
            await first.DisposeAsync();
        }

        await using var second = await ProcessServer.LaunchAsync(push, environment);
        await viewer.ReadUntilAsync(f => !f.NoSignal, 60);
        await viewer.ReadUntilAsync(f => !f.NoSignal, 5);
        Assert.True(hub.Camera.Capture.Online);
        Assert.Contains("Pushing camera cam to", second.Output);

        // Stopped the way systemd stops it: it closes the connection properly and exits with 0.
        Assert.Equal(0, await second.TerminateAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("Stopped pushing", second.Output);
        await viewer.ReadUntilAsync(f => f.NoSignal, 5);
    }

    [Fact]
    public async Task A_producer_with_the_wrong_token_says_so_and_keeps_retrying()
    {
        await using var hub = await StartHubAsync();
        await using var producer = await ProcessServer.LaunchAsync(
            ["push", "--source", "test", "--fps", "5", "--to", IngestUrl(hub), "--token", "not-the-token"]);
        await ChainTests.WaitUntilAsync(() => producer.Output.Split("rejected the token").Length > 2, "two rejected attempts were logged", 60);
        Assert.False(producer.Process.HasExited);
        Assert.False(hub.Camera.Capture.Online);
    }

    [Fact]
    public async Task A_producer_started_before_its_hub_connects_once_the_hub_is_up()
    {
        var port = ChainTests.FreePort();
        var url = $"ws://127.0.0.1:{port}/cams/cam/ingest";
        // Both ends read the secret from a file, as with systemd credentials (trailing newline and all).
        var tokenFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(tokenFile, Token + "\n");
        try
        {
            await using var producer = await ProcessServer.LaunchAsync(["push", "--source", "test", "--fps", "10", "--to", url, "--token-file", tokenFile]);
            await ChainTests.WaitUntilAsync(() => producer.Output.Contains("Cannot push to"), "a failed attempt was logged", 60);
            await using var hub = await EdgeTestServer.StartAsync("--camera", "cam=remote", "--ingest-token-file", tokenFile, "--listen", $"127.0.0.1:{port}");
            await using var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
            await viewer.ReadUntilAsync(f => !f.NoSignal, 30);
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public async Task Push_help_and_bad_settings()
    {
        var (code, output) = await ProcessServer.RunAsync(["push", "--help"]);
        Assert.Equal(0, code);
        Assert.Contains("--to", output);
        Assert.Contains("VIDEOEDGE_TOKEN", output);
        Assert.DoesNotContain("--listen", output);

        (code, output) = await ProcessServer.RunAsync(["push", "--source", "test", "--token", Token]);
        Assert.Equal(2, code);
        Assert.Contains("--to is required", output);
        (code, output) = await ProcessServer.RunAsync(["push", "--source", "test", "--to", "http://hub/cams/x/ingest", "--token", Token]);
        Assert.Equal(2, code);
        Assert.Contains("ws://", output);
        (code, output) = await ProcessServer.RunAsync(["push", "--source", "test", "--to", "ws://hub/cams/x/ingest"]);
        Assert.Equal(2, code);
        Assert.Contains("--token", output);
        (code, output) = await ProcessServer.RunAsync(["push", "--listen", "0.0.0.0:1", "--to", "ws://hub/cams/x/ingest", "--token", Token]);
        Assert.Equal(2, code);
        Assert.Contains("unknown setting '--listen'", output);
    }
}
