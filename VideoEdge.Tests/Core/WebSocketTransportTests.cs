using System.Security.Cryptography;
using System.Text.Json;
using OpenCvSharp;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Core;

/// <summary>
/// Every WebSocket endpoint on every transport a client may use: plain HTTP/1.1 (the direct
/// socket path), HTTP/1.1 over TLS, and HTTP/2 over TLS with RFC 8441 extended CONNECT, the way
/// Chromium opens a WebSocket to an HTTPS server that speaks HTTP/2. (Kestrel speaks HTTP/2
/// without TLS only on a listener that speaks nothing else, so plain HTTP/2 is not a case here.)
/// The client is ws_client.py: python3-h2 plus RFC 6455 framing by hand, independent of .NET.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class WebSocketTransportTests(ITestOutputHelper output)
{
    private const string Token = "h2-ingest-token-1234";
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(90);

    public static TheoryData<string, string> Transports => new()
    {
        { "http", "1.1" },
        { "https", "1.1" },
        { "https", "2" },
    };

    public static TheoryData<string, string, string> FloodCases()
    {
        var cases = new TheoryData<string, string, string>();
        foreach (var kind in new[] { "pong", "ping", "fragment" })
        {
            foreach (var (scheme, http) in new[] { ("http", "1.1"), ("https", "1.1"), ("https", "2") })
            {
                cases.Add(scheme, http, kind);
            }
        }
        return cases;
    }

    private static async Task<EdgeTestServer> StartAsync(string scheme, TestCertificate certificate, params string[] args)
    {
        var server = await EdgeTestServer.StartAsync([.. args, .. scheme == "https" ? certificate.ServerArgs : []]);
        Assert.StartsWith(scheme + "://", server.BaseUrl);
        return server;
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_viewer_gets_whole_live_JPEGs_and_a_polite_close(string scheme, string http)
    {
        using var certificate = new TestCertificate();
        await using var server = await StartAsync(scheme, certificate, "--source", "test", "--fps", "15", "--resolution", "320x240");
        await server.WaitForFramesAsync();
        var before = server.Camera.Stats.FramesSent;

        var lines = await PythonWebSocketClient.Start(server.BaseUrl + "/ws", http, "viewer", "20").ResultAsync(ClientTimeout);
        var summary = lines[^1];
        output.WriteLine(summary.ToString());
        var frames = lines.SkipLast(1).ToList();
        Assert.Equal(20, frames.Count);
        Assert.All(frames, f => Assert.True(f.GetProperty("jpeg").GetBoolean(), "a message is not a whole JPEG"));
        Assert.True(frames.Select(f => f.GetProperty("md5").GetString()).Distinct().Count() > 10, "the pictures do not change: not live");
        Assert.Equal(1000, summary.GetProperty("closeStatus").GetInt32());
        Assert.Equal(JsonValueKind.String, summary.GetProperty("ended").ValueKind);
        Assert.True(server.Camera.Stats.FramesSent - before >= 20, "the server did not count the frames it sent");
        await WaitForNoViewersAsync(server);
        Assert.Equal(0, server.Camera.Pool.Misuse);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_producer_pushes_frames_that_viewers_get_byte_identical(string scheme, string http)
    {
        Assert.True(VideoEdge.Imaging.OpenCvRuntime.TryEnsure(out var error), error);
        byte[] jpeg;
        // Noise compresses badly: a frame of some 200 KB, far over a request body limit, as a real camera's would be.
        using (var noise = new Mat(480, 640, MatType.CV_8UC3))
        {
            Cv2.Randu(noise, new Scalar(0, 0, 0), new Scalar(255, 255, 255));
            jpeg = noise.ImEncode(".jpg");
        }
        Assert.True(jpeg.Length > 100_000, $"the test frame is only {jpeg.Length} bytes");
        var file = Path.Combine(Path.GetTempPath(), $"video-edge-push-{Guid.NewGuid():N}.jpg");
        await File.WriteAllBytesAsync(file, jpeg);
        try
        {
            using var certificate = new TestCertificate();
            await using var server = await StartAsync(scheme, certificate, "--camera", "cam=remote", "--ingest-token", Token, "--resolution", "640x480");
            // The viewer first, so the producer is told to resume; it takes whatever comes (no-signal pictures, then the pushed ones).
            var viewing = PythonWebSocketClient.Start(server.BaseUrl + "/cams/cam/ws", http, "viewer", "15");
            await WaitUntilAsync(() => server.Cameras.All.Single().Hub.ViewerCount == 1, "the viewer to be registered");
            var pushed = await PythonWebSocketClient.Start(server.BaseUrl + "/cams/cam/ingest", http, "--header", "Authorization: Bearer " + Token,
                "push", file, "60", "15").ResultAsync(ClientTimeout);
            var viewed = await viewing.ResultAsync(ClientTimeout);
            output.WriteLine(pushed[^1].ToString());
            output.WriteLine(viewed[^1].ToString());

            Assert.Contains("resume", pushed[^1].GetProperty("texts").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal(JsonValueKind.Null, pushed[^1].GetProperty("ended").ValueKind);
            var md5 = Convert.ToHexString(MD5.HashData(jpeg)).ToLowerInvariant();
            Assert.Contains(md5, viewed.SkipLast(1).Select(f => f.GetProperty("md5").GetString()));
            Assert.True(server.Cameras.All.Single().Stats.Dropped == 0, "the server dropped pushed frames");
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Browsers apply no same-origin rule to WebSockets; the server's Origin check must hold on HTTP/2 too, where there is no Upgrade header.</summary>
    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_page_of_another_origin_is_refused(string scheme, string http)
    {
        using var certificate = new TestCertificate();
        await using var server = await StartAsync(scheme, certificate, "--source", "test", "--fps", "15", "--resolution", "320x240");
        var lines = await PythonWebSocketClient.Start(server.BaseUrl + "/ws", http, "--header", "Origin: https://evil.example", "viewer", "1").ResultAsync(ClientTimeout);
        output.WriteLine(lines[^1].ToString());
        Assert.Equal(403, lines[^1].GetProperty("refused").GetInt32());
        var same = await PythonWebSocketClient.Start(server.BaseUrl + "/ws", http, "--header", "Origin: " + server.BaseUrl, "viewer", "1").ResultAsync(ClientTimeout);
        Assert.Equal(1, same[^1].GetProperty("frames").GetInt32());
    }

    /// <summary>
    /// Pongs, pings and empty fragments are frames like any other: each costs the server a parse
    /// (a ping also a pong), so each counts against the viewer's limit on every transport.
    /// </summary>
    [Theory]
    [MemberData(nameof(FloodCases))]
    public async Task A_flood_of_any_frame_kind_ends_only_the_flooder(string scheme, string http, string kind)
    {
        using var certificate = new TestCertificate();
        await using var server = await StartAsync(scheme, certificate, "--source", "test", "--fps", "15", "--resolution", "320x240");
        await server.WaitForFramesAsync();
        // 45 frames at 15 fps: the honest viewer watches through the whole flood.
        var honest = PythonWebSocketClient.Start(server.BaseUrl + "/ws", http, "viewer", "45");
        await WaitUntilAsync(() => server.Camera.Hub.ViewerCount == 1, "the honest viewer to be registered");

        var flood = await PythonWebSocketClient.Start(server.BaseUrl + "/ws", http, "flood", kind, "10").ResultAsync(ClientTimeout);
        var summary = flood[^1];
        output.WriteLine(summary.ToString());
        Assert.True(summary.GetProperty("closedAfter").ValueKind == JsonValueKind.Number,
            $"the server kept the flooding viewer for 10 s ({summary.GetProperty("sent")} {kind} frames)");
        Assert.InRange(summary.GetProperty("closedAfter").GetDouble(), 0, 3);

        var watched = await honest.ResultAsync(ClientTimeout);
        output.WriteLine(watched[^1].ToString());
        Assert.Equal(45, watched[^1].GetProperty("frames").GetInt32());
        Assert.Equal(1000, watched[^1].GetProperty("closeStatus").GetInt32());
        await WaitForNoViewersAsync(server);
        Assert.Equal(0, server.Camera.Pool.Misuse);
    }

    private static Task WaitForNoViewersAsync(EdgeTestServer server) =>
        WaitUntilAsync(() => server.Camera.Hub.ViewerCount == 0, "every viewer to be gone");

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }
}
