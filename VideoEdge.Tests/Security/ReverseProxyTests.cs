using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using VideoEdge.Configuration;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Security;

/// <summary>
/// Real nginx and Caddy in front of the real server: the viewer page's WebSocket (with the Origin a
/// browser sends), the MJPEG stream, the per-address limit keyed on the forwarded viewer address, and
/// X-Forwarded-* ignored from senders that are not trusted proxies. Also --allow-origin '*' with auth.
/// </summary>
public sealed class ReverseProxyTests
{
    /// <summary>What every nginx WebSocket/streaming setup has; the variants differ in the Host and X-Forwarded-* lines.</summary>
    private const string Streaming = """
                proxy_http_version 1.1;
                proxy_set_header Upgrade $http_upgrade;
                proxy_set_header Connection "upgrade";
                proxy_buffering off;
        """;

    private static string Location(int upstream, string headers) =>
        $"location / {{\n    proxy_pass http://127.0.0.1:{upstream};\n{Streaming}\n{headers}\n}}\n";

    /// <summary>The README's nginx snippet, pointed at <paramref name="upstream"/> instead of 127.0.0.1:8080.</summary>
    private static string ReadmeLocation(int upstream)
    {
        var snippet = ReverseProxy.ReadmeSnippet("nginx");
        Assert.Contains("127.0.0.1:8080", snippet);
        return snippet.Replace("127.0.0.1:8080", "127.0.0.1:" + upstream.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private static IPAddress Address(int last) => IPAddress.Parse("127.0.0." + last);

    [Theory]
    [InlineData("readme")] // Host $host + X-Forwarded-For/-Proto, as in the README
    [InlineData("proxy_set_header Host $host;")] // the port dropped, nothing forwarded
    [InlineData("proxy_set_header Host $http_host;")] // the browser's Host passed as it is
    [InlineData("proxy_set_header X-Forwarded-Host $host;\nproxy_set_header X-Forwarded-Proto $scheme;")] // no Host line: nginx sends its upstream's address as Host
    public async Task Behind_nginx_the_viewer_page_WebSocket_and_the_stream_work_and_other_sites_are_still_refused(string headers)
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "320x240");
        await server.WaitForFramesAsync();
        var upstream = new Uri(server.BaseUrl).Port;
        await using var nginx = await ReverseProxy.StartNginxAsync(headers == "readme" ? ReadmeLocation(upstream) : Location(upstream, headers));
        var front = new Uri($"http://127.0.0.1:{nginx.Port}");
        // What a browser that opened http://cam.example:PORT/ sends.
        var site = $"cam.example:{nginx.Port}";

        await using (var raw = await RawConnection.ConnectAsync(front))
        {
            var head = await raw.WebSocketHandshakeAsync("/ws", $"Origin: http://{site}\r\n", site);
            Assert.True(head.Status == 101, $"the page's own WebSocket got {head.Status}\n{nginx.Log}");
            Assert.True(Jpeg.HasMarkers(await raw.ReadWebSocketJpegAsync()));
            Assert.True(Jpeg.HasMarkers(await raw.ReadWebSocketJpegAsync()));
        }
        foreach (var other in new[] { $"http://evil.example:{nginx.Port}", "https://evil.example", $"http://cam.example.evil.example:{nginx.Port}" })
        {
            await using var raw = await RawConnection.ConnectAsync(front);
            var head = await raw.WebSocketHandshakeAsync("/ws", $"Origin: {other}\r\n", site);
            Assert.True(head.Status == 403, $"a page of {other} got {head.Status}");
        }
        await using (var raw = await RawConnection.ConnectAsync(front))
        {
            await raw.SendAsync(RawConnection.Get("/stream.mjpg", site));
            var head = await raw.ReadHeadAsync();
            Assert.Equal(200, head.Status);
            Assert.StartsWith("multipart/x-mixed-replace", head["Content-Type"]);
            var first = await raw.ReadMjpegPartAsync();
            var second = await raw.ReadMjpegPartAsync();
            Assert.True(second.Sequence > first.Sequence);
        }
    }

    [Theory]
    [InlineData("proxy_set_header Host $host;\nproxy_set_header X-Forwarded-Proto $scheme;")]
    [InlineData("proxy_set_header Host $host;")] // ends TLS without saying so
    public async Task Behind_nginx_that_ends_TLS_an_https_page_gets_its_WebSocket(string headers)
    {
        var dir = Directory.CreateTempSubdirectory("video-edge-proxy-tls-");
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=cam.example", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName("cam.example");
            request.CertificateExtensions.Add(san.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certPath = Path.Combine(dir.FullName, "cert.pem");
            var keyPath = Path.Combine(dir.FullName, "key.pem");
            await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
            var thumbprint = certificate.Thumbprint;

            await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "320x240");
            await server.WaitForFramesAsync();
            await using var nginx = await ReverseProxy.StartNginxAsync(Location(new Uri(server.BaseUrl).Port, headers), (certPath, keyPath));
            var site = $"cam.example:{nginx.Port}";
            using var handler = new SocketsHttpHandler
            {
                // cam.example is this nginx, as DNS would have it.
                ConnectCallback = async (_, cancellation) =>
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await socket.ConnectAsync(IPAddress.Loopback, nginx.Port, cancellation);
                    return new NetworkStream(socket, ownsSocket: true);
                },
                SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, cert, _, _) => cert is X509Certificate2 c && c.Thumbprint == thumbprint },
            };
            using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);

            using (var ws = new ClientWebSocket())
            {
                ws.Options.SetRequestHeader("Origin", $"https://{site}");
                ws.Options.CollectHttpResponseDetails = true;
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await ws.ConnectAsync(new Uri($"wss://{site}/ws"), invoker, timeout.Token);
                Assert.Equal(HttpStatusCode.SwitchingProtocols, ws.HttpStatusCode);
                for (var i = 0; i < 2; i++)
                {
                    var jpeg = await ReceiveMessageAsync(ws, timeout.Token);
                    Assert.True(Jpeg.HasMarkers(jpeg));
                }
                ws.Abort();
            }
            using (var ws = new ClientWebSocket())
            {
                ws.Options.SetRequestHeader("Origin", "https://evil.example");
                ws.Options.CollectHttpResponseDetails = true;
                await Assert.ThrowsAsync<WebSocketException>(() => ws.ConnectAsync(new Uri($"wss://{site}/ws"), invoker, CancellationToken.None));
                Assert.Equal(HttpStatusCode.Forbidden, ws.HttpStatusCode);
            }
            using var https = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(30) };
            using var response = await https.GetAsync($"https://{site}/stream.mjpg", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64 * 1024];
            var seen = 0;
            while (seen < 20_000)
            {
                var n = await body.ReadAsync(buffer);
                Assert.True(n > 0, "the stream ended");
                seen += n;
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_per_address_limit_counts_the_viewer_a_trusted_proxy_names_and_ignores_what_others_claim()
    {
        // nginx connects from 127.0.0.1, the only trusted proxy; viewers use other loopback addresses.
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "5", "--resolution", "160x120",
            "--trusted-proxy", "127.0.0.1", "--max-clients-per-ip", "3");
        await server.WaitForFramesAsync();
        var kestrel = new Uri(server.BaseUrl);
        await using var nginx = await ReverseProxy.StartNginxAsync(ReadmeLocation(kestrel.Port));
        var front = new Uri($"http://127.0.0.1:{nginx.Port}");
        var viewers = new List<StreamingViewer>();
        try
        {
            // Four viewers on four addresses through the proxy: each its own address, so all get in
            // (counted as the proxy's one address, the fourth would get 503).
            for (var i = 0; i < 4; i++)
            {
                var viewer = await StreamingViewer.OpenAsync(front, Address(21 + i), webSocket: i % 2 == 1);
                viewers.Add(viewer);
                Assert.True(viewer.Head.Status is 200 or 101, $"viewer {i + 1} from {Address(21 + i)} got {viewer.Head.Status}");
            }
            var remotes = JsonDocument.Parse(await server.Http.GetStringAsync("/api/state")).RootElement
                .GetProperty("clients").EnumerateArray().Select(c => c.GetProperty("remote").GetString()).ToHashSet();
            Assert.Equal(["127.0.0.21", "127.0.0.22", "127.0.0.23", "127.0.0.24"], remotes.Order());

            // One viewer claiming other addresses in its own X-Forwarded-For: nginx appends the real
            // one, which is not a trusted proxy, so the claims stop there and the fourth gets 503.
            await OpenFourAsync(front, Address(31), "10.9.0.", expectFourth: 503);
            // The same claims sent straight to the server by an untrusted peer are ignored too.
            await OpenFourAsync(kestrel, Address(41), "10.9.1.", expectFourth: 503);
            // From the trusted proxy's address the header counts: four viewers, four addresses.
            await OpenFourAsync(kestrel, IPAddress.Loopback, "10.9.2.", expectFourth: 200);
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync();
            }
        }

        async Task OpenFourAsync(Uri to, IPAddress from, string claimed, int expectFourth)
        {
            for (var i = 1; i <= 4; i++)
            {
                var viewer = await StreamingViewer.OpenAsync(to, from, extraHeaders: $"X-Forwarded-For: {claimed}{i}\r\n");
                viewers.Add(viewer);
                Assert.True(viewer.Head.Status == (i < 4 ? 200 : expectFourth), $"viewer {i} from {from} claiming {claimed}{i} via port {to.Port} got {viewer.Head.Status}");
            }
        }
    }

    [Fact]
    public async Task X_Forwarded_Host_and_Proto_from_an_untrusted_peer_do_not_sway_the_Origin_check()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "320x240", "--trusted-proxy", "127.0.0.1");
        await server.WaitForFramesAsync();
        var uri = new Uri(server.BaseUrl);
        const string Claims = "X-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\nOrigin: https://evil.example\r\n";
        await using (var untrusted = await RawConnection.ConnectAsync(uri, Address(51)))
        {
            Assert.Equal(403, (await untrusted.WebSocketHandshakeAsync("/ws", Claims, $"127.0.0.1:{uri.Port}")).Status);
        }
        await using (var trusted = await RawConnection.ConnectAsync(uri, IPAddress.Loopback))
        {
            Assert.Equal(101, (await trusted.WebSocketHandshakeAsync("/ws", Claims, $"127.0.0.1:{uri.Port}")).Status);
        }
    }

    [Fact]
    public async Task Behind_Caddy_as_the_README_shows_the_page_WebSocket_stream_and_per_viewer_limit_work()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "5", "--resolution", "160x120", "--max-clients-per-ip", "3");
        await server.WaitForFramesAsync();
        var snippet = ReverseProxy.ReadmeSnippet("caddy");
        Assert.Contains("cam.example.com {", snippet);
        var site = snippet
            // Any host name on this port, so viewers that send "Host: localhost" reach it too.
            .Replace("cam.example.com {", "http://:{PORT} {\n    bind 127.0.0.1", StringComparison.Ordinal)
            .Replace("127.0.0.1:8080", "127.0.0.1:" + new Uri(server.BaseUrl).Port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        await using var caddy = await ReverseProxy.StartCaddyAsync(site);
        var front = new Uri($"http://127.0.0.1:{caddy.Port}");
        var host = $"cam.example:{caddy.Port}";

        await using (var raw = await RawConnection.ConnectAsync(front))
        {
            var head = await raw.WebSocketHandshakeAsync("/ws", $"Origin: http://{host}\r\n", host);
            Assert.True(head.Status == 101, $"the page's own WebSocket got {head.Status}\n{caddy.Log}");
            Assert.True(Jpeg.HasMarkers(await raw.ReadWebSocketJpegAsync()));
        }
        await using (var raw = await RawConnection.ConnectAsync(front))
        {
            Assert.Equal(403, (await raw.WebSocketHandshakeAsync("/ws", "Origin: https://evil.example\r\n", host)).Status);
        }
        var viewers = new List<StreamingViewer>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var viewer = await StreamingViewer.OpenAsync(front, Address(61 + i), webSocket: i % 2 == 1);
                viewers.Add(viewer);
                Assert.True(viewer.Head.Status is 200 or 101, $"viewer {i + 1} from {Address(61 + i)} got {viewer.Head.Status}\n{caddy.Log}");
            }
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData("token", new[] { "--auth-token", "secret-token-123" })]
    [InlineData("basic", new[] { "--auth-user", "viewer", "--auth-password", "pw-123456" })]
    public async Task Allow_origin_star_with_authentication_exits_2_with_one_line(string scheme, string[] auth)
    {
        var (code, output) = await ProcessServer.RunAsync(["--source", "test", "--allow-origin", "*", .. auth]);
        Assert.True(code == 2, $"{scheme}: exit {code}: {output}");
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("video-edge: --allow-origin '*' with authentication", line);

        // The same from the environment, as systemd's EnvironmentFile gives it.
        var (options, error) = OptionsParser.Parse([], name => name switch
        {
            "VIDEOEDGE_ALLOW_ORIGIN" => "*",
            "VIDEOEDGE_AUTH_TOKEN" => "secret-token-123",
            _ => null,
        });
        Assert.Null(options);
        Assert.Contains("--allow-origin '*'", error);
        // Listed origins with authentication stay allowed.
        Assert.NotNull(OptionsParser.Parse(["--allow-origin", "https://dashboard.example", .. auth], _ => null).Options);
    }

    [Fact]
    public void Trusted_proxies_come_from_flags_or_the_environment()
    {
        var (fromEnv, _) = OptionsParser.Parse([], name => name == "VIDEOEDGE_TRUSTED_PROXY" ? "10.0.0.0/8; 192.168.1.2 ;fd00::/8" : null);
        Assert.Equal(["10.0.0.0/8", "192.168.1.2/32", "fd00::/8"], fromEnv!.TrustedProxies!.Select(n => n.ToString()));
        Assert.Null(OptionsParser.Parse([], _ => null).Options!.TrustedProxies);
        Assert.Empty(OptionsParser.Parse(["--trusted-proxy", "none"], _ => null).Options!.TrustedProxies!);
        var (bad, error) = OptionsParser.Parse(["--trusted-proxy", "nginx.local"], _ => null);
        Assert.Null(bad);
        Assert.StartsWith("--trusted-proxy nginx.local: expected", error);
    }

    private static async Task<byte[]> ReceiveMessageAsync(ClientWebSocket ws, CancellationToken cancellation)
    {
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await ws.ReceiveAsync(buffer, cancellation);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return message.ToArray();
            }
        }
    }
}
