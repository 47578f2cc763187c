using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using VideoEdge.Security;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>Passwords and tokens in source URLs appear nowhere the server shows a source: API, /healthz, log.</summary>
public sealed class SecretRedactionTests(ITestOutputHelper output)
{
    private static readonly string[] Secrets = ["RELAYPASS", "UPSTREAMSECRET", "FFPASS", "FFSECRET"];

    [Theory]
    [InlineData("mjpeg+http://host/stream.mjpg?token=abc", "mjpeg+http://host/stream.mjpg?***")]
    [InlineData("rtsp://admin:pw@10.0.0.5:554/live?a=1#x", "rtsp://***@10.0.0.5:554/live?***")]
    [InlineData("http://u:p@host", "http://***@host")]
    [InlineData("'http://host/a?k=v': Server returned 404 Not Found", "'http://host/a?***': Server returned 404 Not Found")]
    [InlineData("/dev/video0", "/dev/video0")]
    [InlineData("pushed by 127.0.0.1:5000", "pushed by 127.0.0.1:5000")]
    public void Redact_removes_user_info_and_query_from_every_url(string text, string expected) =>
        Assert.Equal(expected, SourceText.Redact(text));

    [Fact]
    public async Task Secrets_in_source_urls_appear_in_no_endpoint_and_no_log_line()
    {
        var port = ClosedPort();
        const string viewerToken = "viewer-token-1234";
        await using var server = await ProcessServer.StartAsync([
            "--camera", $"relay=mjpeg+http://relayuser:RELAYPASS@127.0.0.1:{port}/stream.mjpg?token=UPSTREAMSECRET",
            "--camera", $"ff=http://ffuser:FFPASS@127.0.0.1:{port}/video.mjpg?token=FFSECRET",
            "--resolution", "320x240", "--auth-token", viewerToken]);
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };

        // Both sources fail (nothing listens), so their reasons, which quote the URL, are on show.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (server.Output.Split('\n').Count(l => l.Contains("unavailable", StringComparison.Ordinal) && !l.Contains("waiting", StringComparison.Ordinal)) < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "both cameras should have failed within 60 s:\n" + server.Output);
            await Task.Delay(200);
        }

        using (var anonymous = await http.GetAsync("/healthz"))
        {
            Assert.Equal("ok\n", await anonymous.Content.ReadAsStringAsync());
        }
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", viewerToken);
        var shown = new Dictionary<string, string>();
        foreach (var path in new[] { "/healthz", "/api/cameras", "/cams/relay/state", "/cams/ff/state", "/api/state", "/metrics", "/cams/relay/controls", "/cams/ff/controls" })
        {
            using var response = await http.GetAsync(path);
            shown[path] = await response.Content.ReadAsStringAsync();
        }
        shown["log"] = server.Output;
        foreach (var (where, text) in shown)
        {
            output.WriteLine($"--- {where}\n{text}");
            foreach (var secret in Secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{where} shows {secret}");
            }
        }
        // Still recognisable: host, port and path stay.
        Assert.Contains($"relay: no signal (", shown["/healthz"]);
        using var relay = JsonDocument.Parse(shown["/cams/relay/state"]);
        // The relay sends its credentials as Basic auth and keeps them out of the URL it shows.
        Assert.Equal($"mjpeg+http://127.0.0.1:{port}/stream.mjpg?***", relay.RootElement.GetProperty("source").GetProperty("description").GetString());
        using var ff = JsonDocument.Parse(shown["/cams/ff/state"]);
        Assert.Equal($"http://***@127.0.0.1:{port}/video.mjpg?***", ff.RootElement.GetProperty("source").GetProperty("description").GetString());
        Assert.False(string.IsNullOrEmpty(ff.RootElement.GetProperty("source").GetProperty("offlineReason").GetString()));
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
