using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using OpenCvSharp;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>
/// mjpeg+http:// upstreams that misbehave on purpose: redirects elsewhere, and bytes that never make
/// a usable JPEG. Viewers must see the no-signal picture with the reason, and nothing else is fetched.
/// </summary>
[LongRunning(45)]
public sealed class HostileRelayTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(45);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_redirect_to_another_port_is_not_followed_and_the_reason_names_it(bool followFlag)
    {
        var jpegs = MjpegStreams.Jpegs(2);
        await using var elsewhere = new RecordedStreamServer(MjpegStreams.UStreamer(jpegs));
        await using var upstream = new RecordedStreamServer(MjpegStreams.UStreamer(jpegs), redirectTo: elsewhere.Url);
        string[] flags = followFlag ? ["--relay-follow-redirects"] : [];
        await using var server = await EdgeTestServer.StartAsync(["--camera", "cam=mjpeg+" + upstream.RedirectingUrl, .. flags]);

        var reason = await OfflineReasonAsync(server.BaseUrl, r => r.Contains("redirects", StringComparison.Ordinal));
        Assert.Contains(elsewhere.Url, reason);
        Assert.Contains(followFlag ? "not the same host and port" : "--relay-follow-redirects", reason);
        // Retried a few times, and never once fetched from the other address.
        await WaitUntilAsync(() => upstream.Connections >= 3, "the relay to retry");
        Assert.Equal(0, elsewhere.Connections);
        Assert.Equal(0, server.Camera.Stats.Passthrough);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_redirect_on_the_same_host_and_port_is_followed_only_when_asked(bool followFlag)
    {
        var jpegs = MjpegStreams.Jpegs(2);
        await using var upstream = new RecordedStreamServer(MjpegStreams.UStreamer(jpegs), redirectTo: "/stream");
        string[] flags = followFlag ? ["--relay-follow-redirects"] : [];
        await using var server = await EdgeTestServer.StartAsync(["--camera", "cam=mjpeg+" + upstream.RedirectingUrl, .. flags]);
        if (followFlag)
        {
            await WaitUntilAsync(() => server.Camera.Stats.Passthrough >= 3, "relayed frames");
            using var snapshot = await server.Http.GetAsync("/cams/cam/snapshot.jpg");
            Assert.Contains(HubTap.Hash(await snapshot.Content.ReadAsByteArrayAsync()), jpegs.Select(HubTap.Hash));
            Assert.Contains("GET /stream ", upstream.LastRequest);
        }
        else
        {
            var reason = await OfflineReasonAsync(server.BaseUrl, r => r.Contains("redirects", StringComparison.Ordinal));
            Assert.Contains("redirects (HTTP 302) to " + upstream.Url + ": not followed", reason);
            Assert.Equal(0, server.Camera.Stats.Passthrough);
        }
    }

    [Fact]
    public async Task A_redirect_to_a_file_url_is_one_log_line_without_a_stack_trace()
    {
        var jpegs = MjpegStreams.Jpegs(1);
        await using var upstream = new RecordedStreamServer(MjpegStreams.UStreamer(jpegs), redirectTo: "file:///etc/passwd");
        await using var server = await ProcessServer.StartAsync(["--camera", "cam=mjpeg+" + upstream.RedirectingUrl, "--relay-follow-redirects"]);

        var reason = await OfflineReasonAsync(server.BaseUrl, r => r.Contains("redirects", StringComparison.Ordinal));
        Assert.Contains("file:///etc/passwd", reason);
        // Retries at 0.5, 1, 2, 4 s: by the fifth request the same fault has been met five times.
        await WaitUntilAsync(() => upstream.Connections >= 5, "the relay to retry");
        await Task.Delay(500);
        var output = server.Output;
        Assert.Single(output.Split('\n'), l => l.Contains("redirects", StringComparison.Ordinal));
        Assert.DoesNotContain("Exception", output);
        Assert.DoesNotContain(" at System.", output);
    }

    public static TheoryData<string> Hostile() => ["lying Content-Length", "oversized parts", "endless drip"];

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task An_upstream_that_never_sends_a_valid_jpeg_shows_no_signal_with_the_reason(string kind)
    {
        var jpeg = NoiseJpeg();
        var stream = kind switch
        {
            // Every part declares 100 bytes fewer than it has: each body is a JPEG without its end.
            "lying Content-Length" => Multipart(kind, "", jpeg, j => $"--b\r\nContent-Type: image/jpeg\r\nContent-Length: {j.Length - 100}\r\n\r\n"),
            // Whole JPEGs, each over --max-frame-bytes.
            "oversized parts" => Multipart(kind, "", jpeg, j => $"--b\r\nContent-Type: image/jpeg\r\nContent-Length: {j.Length}\r\n\r\n"),
            // One part that never ends: a byte at a time, forever.
            _ => new RecordedStream(kind, "multipart/x-mixed-replace;boundary=b",
                [.. "--b\r\nContent-Type: image/jpeg\r\n\r\n"u8, 0xFF, 0xD8], [[0x00]], []),
        };
        await using var upstream = new RecordedStreamServer(stream, fps: 20);
        string[] cap = kind == "oversized parts" ? ["--max-frame-bytes", "16K"] : [];
        await using var server = await EdgeTestServer.StartAsync(["--camera", "cam=mjpeg+" + upstream.Url, "--resolution", "320x240", .. cap]);
        Assert.True(jpeg.Length > 16 * 1024, $"the test JPEG has only {jpeg.Length} bytes");
        await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/cam/stream.mjpg");

        // What the viewer sees first is the no-signal picture at the camera's size (10 s without a valid JPEG).
        using var timeout = new CancellationTokenSource(Patience);
        var part = await viewer.ReadPartAsync(timeout.Token);
        Assert.Equal((320, 240), Jpeg.Decode(part.Body));
        var reason = await OfflineReasonAsync(server.BaseUrl, r => r.Contains("no valid JPEG", StringComparison.Ordinal));
        var dropped = int.Parse(Regex.Match(reason, "sends no valid JPEG: ([0-9]+) dropped").Groups[1].Value);
        if (kind == "endless drip")
        {
            Assert.Equal(0, dropped);
            Assert.Matches("[1-9][0-9]* bytes in 10 s", reason);
        }
        else
        {
            Assert.True(dropped >= 10, reason);
        }
        Assert.Equal(0, server.Camera.Stats.Passthrough);
        Assert.True(server.Camera.Stats.NoSignalFrames >= 1);
    }

    private static byte[] NoiseJpeg()
    {
        Assert.True(VideoEdge.Imaging.OpenCvRuntime.TryEnsure(out var error), error);
        using var image = new Mat(240, 320, MatType.CV_8UC3);
        Cv2.Randu(image, Scalar.All(0), Scalar.All(255));
        return image.ImEncode(".jpg");
    }

    private static RecordedStream Multipart(string name, string preamble, byte[] jpeg, Func<byte[], string> header) =>
        new(name, "multipart/x-mixed-replace;boundary=b", Encoding.ASCII.GetBytes(preamble),
            [[.. Encoding.ASCII.GetBytes(header(jpeg)), .. jpeg, .. "\r\n"u8]], [jpeg]);

    /// <summary>Polls /api/cameras until the camera is offline with a reason that <paramref name="match"/> accepts.</summary>
    private static async Task<string> OfflineReasonAsync(string baseUrl, Func<string, bool> match)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow + Patience;
        string? last = null;
        while (DateTime.UtcNow < deadline)
        {
            using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/cameras"));
            var camera = doc.RootElement.EnumerateArray().Single(c => c.GetProperty("name").GetString() == "cam");
            last = camera.GetProperty("offlineReason").GetString();
            if (!camera.GetProperty("online").GetBoolean() && last is not null && match(last))
            {
                return last;
            }
            await Task.Delay(100);
        }
        Assert.Fail($"the camera did not go offline with the expected reason in {Patience.TotalSeconds} s; last reason: {last ?? "none (online)"}");
        return "";
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited {Patience.TotalSeconds} s for {what}");
            await Task.Delay(50);
        }
    }
}
