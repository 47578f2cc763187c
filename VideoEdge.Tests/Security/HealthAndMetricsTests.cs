using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpenCvSharp;
using VideoEdge.Api;
using VideoEdge.Cameras;
using VideoEdge.Relay;
using VideoEdge.Security;
using VideoEdge.Viewers;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>/healthz through the capture loop's states, and /metrics as a Prometheus scraper reads it.</summary>
public sealed partial class HealthAndMetricsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Healthz_is_open_and_200_while_frames_flow_and_details_need_credentials()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240", "--auth-token", "secret-token-42");
        await server.WaitForFramesAsync();
        using var response = await server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        // Without credentials only the verdict: the per-camera lines name sources and their faults.
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
        using var authorized = new HttpRequestMessage(HttpMethod.Get, "/healthz") { Headers = { { "Authorization", "Bearer secret-token-42" } } };
        using var detailed = await server.Http.SendAsync(authorized);
        Assert.Equal("ok\nmain: streaming\n", await detailed.Content.ReadAsStringAsync());
        using var head = await server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/healthz"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task Healthz_is_200_while_the_no_signal_picture_stands_in_for_a_missing_source()
    {
        // Nothing listens on the upstream port: the source fails to open and the no-signal loop runs.
        using var unused = new TcpListener(IPAddress.Loopback, 0);
        unused.Start();
        var port = ((IPEndPoint)unused.LocalEndpoint).Port;
        unused.Stop();
        await using var server = await EdgeTestServer.StartAsync("--source", $"mjpeg+http://127.0.0.1:{port}/stream.mjpg", "--resolution", "320x240");
        await server.WaitForFramesAsync();
        var body = await server.Http.GetStringAsync("/healthz");
        output.WriteLine(body);
        Assert.StartsWith("ok\nmain: no signal (", body);
        Assert.Contains("showing the no-signal picture", body);
    }

    [Fact]
    public async Task Healthz_turns_503_when_the_capture_loop_stalls()
    {
        // An upstream camera that sends a few frames and then hangs without closing: the relay's read
        // blocks, so the capture loop makes no progress until the relay's own stall timeout.
        await using var upstream = await StallingUpstream.StartAsync();
        await using var server = await EdgeTestServer.StartAsync("--source", $"mjpeg+http://127.0.0.1:{upstream.Port}/stream.mjpg", "--resolution", "320x240");
        await server.WaitForFramesAsync(3);
        using (var flowing = await server.Http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.OK, flowing.StatusCode);
            Assert.Equal("ok\nmain: streaming\n", await flowing.Content.ReadAsStringAsync());
        }

        upstream.Stall();
        var stalledAt = DateTime.UtcNow;
        HttpResponseMessage response;
        while ((response = await server.Http.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
        {
            response.Dispose();
            Assert.True(DateTime.UtcNow - stalledAt < MjpegRelaySource.StallTimeout, "/healthz stayed 200 while nothing was captured");
            await Task.Delay(200);
        }
        using (response)
        {
            var after = DateTime.UtcNow - stalledAt;
            var body = await response.Content.ReadAsStringAsync();
            output.WriteLine($"503 after {after.TotalSeconds:0.0} s: {body}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.StartsWith("unhealthy\nmain: stalled: nothing captured for ", body);
            Assert.InRange(after.TotalSeconds, 4.5, 9);
        }
    }

    [Fact]
    public async Task Metrics_are_valid_Prometheus_text_with_the_pipeline_viewers_and_refusals()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240", "--max-clients", "2");
        await server.WaitForFramesAsync();
        var uri = new Uri(server.BaseUrl);
        await using var mjpeg = await StreamingViewer.OpenAsync(uri);
        await using var ws = await StreamingViewer.OpenAsync(uri, webSocket: true);
        await using (var refused = await StreamingViewer.OpenAsync(uri))
        {
            Assert.Equal(503, refused.Head.Status);
        }
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/snapshot.jpg")).StatusCode);
        await Task.Delay(500);

        using var response = await server.Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var text = await response.Content.ReadAsStringAsync();
        var metrics = Parse(text);
        output.WriteLine($"{metrics.Count} samples");

        Assert.True(metrics["videoedge_frames_captured_total{camera=\"main\"}"] > 5);
        Assert.True(metrics["videoedge_frames_encoded_total{camera=\"main\"}"] > 5);
        Assert.Equal(0, metrics["videoedge_frames_dropped_total{camera=\"main\"}"]);
        Assert.Equal(1, metrics["videoedge_clients{camera=\"main\",transport=\"mjpeg\"}"]);
        Assert.Equal(1, metrics["videoedge_clients{camera=\"main\",transport=\"websocket\"}"]);
        Assert.True(metrics["videoedge_sent_bytes_total{camera=\"main\"}"] > 10_000);
        Assert.True(metrics["videoedge_viewer_frames_sent_total{camera=\"main\"}"] >= 3);
        Assert.Equal(1, metrics["videoedge_source_online{camera=\"main\"}"]);
        Assert.InRange(metrics["videoedge_pool_frames_outstanding{camera=\"main\"}"], 1, 4);
        Assert.Equal(0, metrics["videoedge_pool_misuse_total{camera=\"main\"}"]);
        Assert.Equal(2, metrics["videoedge_streams"]);
        Assert.Equal(2, metrics["videoedge_streams_max"]);
        Assert.Equal(1, metrics["videoedge_refusals_total{reason=\"max_clients\"}"]);
        Assert.Equal(0, metrics["videoedge_refusals_total{reason=\"unauthorized\"}"]);
        Assert.True(metrics["process_resident_memory_bytes"] > 10_000_000);

        // The encode-time histogram: cumulative buckets, +Inf equal to the count, the sum plausible.
        var buckets = metrics.Where(m => m.Key.StartsWith("videoedge_encode_duration_seconds_bucket{", StringComparison.Ordinal)).Select(m => m.Value).ToList();
        Assert.Equal(DurationHistogram.BoundsSeconds.Length + 1, buckets.Count);
        Assert.Equal(buckets.Order(), buckets);
        var count = metrics["videoedge_encode_duration_seconds_count{camera=\"main\"}"];
        Assert.Equal(count, metrics["videoedge_encode_duration_seconds_bucket{camera=\"main\",le=\"+Inf\"}"]);
        Assert.True(count > 5);
        Assert.InRange(metrics["videoedge_encode_duration_seconds_sum{camera=\"main\"}"] / count, 0.00001, 0.5);
    }

    [Fact]
    public async Task Uptime_and_start_time_count_from_the_process_start_not_from_the_first_request()
    {
        // A process of its own: in the test host, the process started long before any server.
        var launched = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        await using var server = await ProcessServer.StartAsync(["--source", "test", "--fps", "5", "--resolution", "160x120"]);
        await Task.Delay(TimeSpan.FromSeconds(3));
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };

        // The first request of any kind is this one: it must not be the moment uptime starts from.
        using var state = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/state"));
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        var uptime = state.RootElement.GetProperty("process").GetProperty("uptimeSeconds").GetDouble();
        output.WriteLine($"uptime {uptime:0.000} s, {now - launched:0.000} s after launch");
        Assert.InRange(uptime, 2.9, now - launched + 1.5);

        var metrics = Parse(await http.GetStringAsync("/metrics"));
        var started = metrics["process_start_time_seconds"];
        Assert.InRange(started, launched - 1.5, now - 2.9);
        Assert.Contains("# TYPE process_start_time_seconds gauge\n", await http.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task A_scrape_allocates_next_to_nothing()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240");
        await server.WaitForFramesAsync();
        var services = server.App.Services;
        var cameras = services.GetRequiredService<CameraSet>();
        var admission = services.GetRequiredService<ViewerAdmission>();
        var refusals = services.GetRequiredService<Refusals>();
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        await using var viewer = await StreamingViewer.OpenAsync(new Uri(server.BaseUrl));
        MetricsEndpoint.Write(new PrometheusWriter(buffer), cameras, admission, refusals);
        buffer.ResetWrittenCount();
        var before = GC.GetAllocatedBytesForCurrentThread();
        MetricsEndpoint.Write(new PrometheusWriter(buffer), cameras, admission, refusals);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        output.WriteLine($"one scrape: {buffer.WrittenCount} bytes of text, {allocated} bytes allocated");
        Assert.True(buffer.WrittenCount > 3000);
        Assert.True(allocated < 1024, $"a scrape allocated {allocated} bytes");
    }

    [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (\S+)$""")]
    private static partial Regex SampleLine();

    /// <summary>Checks every line against the text format and returns the samples by name and labels.</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        Assert.EndsWith("\n", text);
        var samples = new Dictionary<string, double>();
        var types = new Dictionary<string, string>();
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                continue;
            }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Assert.Equal(4, parts.Length);
                Assert.Contains(parts[3], new[] { "counter", "gauge", "histogram" });
                Assert.True(types.TryAdd(parts[2], parts[3]), "TYPE given twice for " + parts[2]);
                continue;
            }
            var match = SampleLine().Match(line);
            Assert.True(match.Success, "not a valid sample line: " + line);
            var name = match.Groups[1].Value;
            // Prometheus naming: base units only, and no per-second gauges where a counter serves.
            Assert.DoesNotMatch("fps|per_second|milli|micro|kilo|mega|_ms$|_ms_|_kb|_mb|percent", name);
            var family = Regex.Replace(name, "_(bucket|sum|count)$", "");
            Assert.True(types.ContainsKey(name) || (types.TryGetValue(family, out var t) && t == "histogram"), "sample before its TYPE: " + line);
            if (types.GetValueOrDefault(name) == "counter")
            {
                Assert.EndsWith("_total", name);
            }
            var value = match.Groups[3].Value switch
            {
                "+Inf" => double.PositiveInfinity,
                "NaN" => double.NaN,
                var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            Assert.True(samples.TryAdd(name + match.Groups[2].Value, value), "sample given twice: " + line);
        }
        return samples;
    }

    /// <summary>
    /// A minimal upstream MJPEG camera on a raw socket: it streams a JPEG ten times a second until
    /// told to stall, then keeps the connection open and sends nothing, as a hung IP camera does.
    /// </summary>
    private sealed class StallingUpstream : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Socket> _clients = [];
        private readonly byte[] _jpeg;
        private readonly Task _accepting;
        private volatile bool _stalled;

        private StallingUpstream()
        {
            Assert.True(VideoEdge.Imaging.OpenCvRuntime.TryEnsure(out var error), error);
            using var picture = new Mat(240, 320, MatType.CV_8UC3, new Scalar(40, 120, 200));
            _jpeg = picture.ImEncode(".jpg");
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Task<StallingUpstream> StartAsync() => Task.FromResult(new StallingUpstream());

        public void Stall() => _stalled = true;

        private async Task AcceptAsync()
        {
            try
            {
                while (true)
                {
                    var client = await _listener.AcceptSocketAsync(_stop.Token);
                    lock (_clients)
                    {
                        _clients.Add(client);
                    }
                    _ = ServeAsync(client);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        private async Task ServeAsync(Socket client)
        {
            try
            {
                await client.SendAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace;boundary=frame\r\nConnection: close\r\n\r\n"), _stop.Token);
                while (!_stalled)
                {
                    var header = Encoding.ASCII.GetBytes($"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {_jpeg.Length}\r\n\r\n");
                    await client.SendAsync(header, _stop.Token);
                    await client.SendAsync(_jpeg, _stop.Token);
                    await client.SendAsync("\r\n"u8.ToArray(), _stop.Token);
                    await Task.Delay(100, _stop.Token);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            lock (_clients)
            {
                foreach (var client in _clients)
                {
                    client.Dispose();
                }
            }
            _stop.Dispose();
        }
    }
}
