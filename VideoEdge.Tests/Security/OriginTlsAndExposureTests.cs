using System.Collections.Concurrent;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VideoEdge.Configuration;
using VideoEdge.Hosting;
using VideoEdge.Security;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Security;

/// <summary>CORS for listed origins, the Origin check on WebSocket handshakes, HTTPS/WSS, and the warning when exposed.</summary>
public sealed class OriginTlsAndExposureTests
{
    private const string Allowed = "https://dashboard.example";
    private const string Token = "tok-origin-tests-1234";

    [Fact]
    public async Task Only_listed_origins_get_CORS_headers_and_their_preflights_need_no_credentials()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--allow-origin", Allowed, "--auth-token", Token);
        await server.WaitForFramesAsync();

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/snapshot.jpg?token=" + Token))
        {
            request.Headers.Add("Origin", Allowed);
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(Allowed, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Equal("true", response.Headers.GetValues("Access-Control-Allow-Credentials").Single());
            Assert.Contains("X-Timestamp", response.Headers.GetValues("Access-Control-Expose-Headers").Single());
            Assert.Contains("Origin", response.Headers.Vary);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/snapshot.jpg?token=" + Token))
        {
            request.Headers.Add("Origin", "https://evil.example");
            using var response = await server.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }

        // A browser sends the preflight for a fetch with an Authorization header without any credentials.
        using (var preflight = Preflight(Allowed))
        using (var response = await server.Http.SendAsync(preflight))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            Assert.Equal(Allowed, response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.Contains("Authorization", response.Headers.GetValues("Access-Control-Allow-Headers").Single());
            Assert.Contains("GET", response.Headers.GetValues("Access-Control-Allow-Methods").Single());
        }
        using (var preflight = Preflight("https://evil.example"))
        using (var response = await server.Http.SendAsync(preflight))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }

        static HttpRequestMessage Preflight(string origin)
        {
            var request = new HttpRequestMessage(HttpMethod.Options, "/stream.mjpg");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "GET");
            request.Headers.Add("Access-Control-Request-Headers", "authorization");
            return request;
        }
    }

    [Fact]
    public async Task CORS_is_off_unless_configured_and_a_wildcard_echoes_the_origin()
    {
        await using (var closed = await EdgeTestServer.StartAsync("--source", "test"))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/state");
            request.Headers.Add("Origin", Allowed);
            using var response = await closed.Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        }
        await using var any = await EdgeTestServer.StartAsync("--source", "test", "--allow-origin", "*");
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/state"))
        {
            request.Headers.Add("Origin", "http://10.0.0.7:8123");
            using var response = await any.Http.SendAsync(request);
            Assert.Equal("http://10.0.0.7:8123", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
            Assert.False(response.Headers.Contains("Access-Control-Allow-Credentials"));
        }
    }

    [Theory]
    [InlineData(null, 101)]
    [InlineData("same", 101)]
    [InlineData(Allowed, 101)]
    [InlineData("https://evil.example", 403)]
    [InlineData("null", 403)]
    [InlineData("http://localhost", 403)]
    public async Task WebSocket_handshakes_from_pages_of_other_origins_are_refused(string? origin, int expected)
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240", "--allow-origin", Allowed);
        await server.WaitForFramesAsync();
        var uri = new Uri(server.BaseUrl);
        var host = $"{uri.Host}:{uri.Port}";
        var header = origin switch
        {
            null => "",
            "same" => $"Origin: http://{host}\r\n",
            _ => $"Origin: {origin}\r\n",
        };
        await using var raw = await RawConnection.ConnectAsync(uri);
        var head = await raw.WebSocketHandshakeAsync("/ws", header, host);
        Assert.Equal(expected, head.Status);
        var refusals = server.App.Services.GetRequiredService<Refusals>();
        if (expected == 101)
        {
            Assert.NotNull(await raw.ReadWebSocketJpegAsync());
            Assert.Equal(0, refusals[RefusalReason.ForbiddenOrigin]);
        }
        else
        {
            Assert.Equal("application/problem+json", head["Content-Type"]);
            Assert.Equal(1, refusals[RefusalReason.ForbiddenOrigin]);
        }
    }

    [Fact]
    public async Task With_a_PEM_certificate_it_serves_HTTPS_and_WSS()
    {
        var dir = Directory.CreateTempSubdirectory("video-edge-tls-");
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=video-edge test", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certPath = Path.Combine(dir.FullName, "cert.pem");
            var keyPath = Path.Combine(dir.FullName, "key.pem");
            await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
            var thumbprint = certificate.Thumbprint;

            await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240", "--tls-cert", certPath, "--tls-key", keyPath);
            await server.WaitForFramesAsync();
            Assert.StartsWith("https://", server.BaseUrl);
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == thumbprint };
            using var https = new HttpClient(handler) { BaseAddress = new Uri(server.BaseUrl) };
            var jpeg = await https.GetByteArrayAsync("/snapshot.jpg");
            Assert.True(Jpeg.HasMarkers(jpeg));

            using var wss = new ClientWebSocket();
            wss.Options.RemoteCertificateValidationCallback = (_, cert, _, _) => cert is X509Certificate2 c && c.Thumbprint == thumbprint;
            await wss.ConnectAsync(new Uri(server.BaseUrl.Replace("https://", "wss://", StringComparison.Ordinal) + "/ws"), CancellationToken.None);
            var buffer = new byte[256 * 1024];
            var received = await wss.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Binary, received.MessageType);
            wss.Abort();

            // Plain HTTP to the TLS port gets no image.
            using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var plainUrl = server.BaseUrl.Replace("https://", "http://", StringComparison.Ordinal) + "/snapshot.jpg";
            var plainStatus = await Record.ExceptionAsync(async () =>
            {
                using var response = await plain.GetAsync(plainUrl);
                Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            });
            Assert.True(plainStatus is null or HttpRequestException, plainStatus?.ToString());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_certificate_that_does_not_match_its_key_stops_the_start()
    {
        var dir = Directory.CreateTempSubdirectory("video-edge-tls-");
        try
        {
            using var key = RSA.Create(2048);
            using var otherKey = RSA.Create(2048);
            var request = new CertificateRequest("CN=mismatch", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            var certPath = Path.Combine(dir.FullName, "cert.pem");
            var keyPath = Path.Combine(dir.FullName, "key.pem");
            File.WriteAllText(certPath, certificate.ExportCertificatePem());
            File.WriteAllText(keyPath, otherKey.ExportPkcs8PrivateKeyPem());
            // Parsing only checks the settings; the certificate is loaded once, at start, by Security.Tls.
            var (options, parseError) = OptionsParser.Parse(["--tls-cert", certPath, "--tls-key", keyPath], _ => null);
            Assert.True(options is not null, parseError);
            var error = Tls.LoadCertificate(options, out var loaded);
            Assert.Null(loaded);
            Assert.Contains("expected a PEM certificate and its matching private key", error);
            Assert.Throws<InvalidOperationException>(() => EdgeApp.Build(options));

            var (code, output) = await ProcessServer.RunAsync(["--source", "test", "--listen", "127.0.0.1:0", "--tls-cert", certPath, "--tls-key", keyPath]);
            Assert.Equal(2, code);
            Assert.StartsWith($"video-edge: --tls-cert {certPath} --tls-key {keyPath}: expected a PEM certificate and its matching private key (", output.Trim());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("0.0.0.0:8080", "", "THE CAMERA IS OPEN TO THE NETWORK")]
    [InlineData("[::]:8080", "", "THE CAMERA IS OPEN TO THE NETWORK")]
    [InlineData("0.0.0.0:8080", "--auth-token " + Token, "without TLS: credentials and video cross the network in clear text")]
    [InlineData("127.0.0.1:8080", "", null)]
    [InlineData("[::1]:8080", "", null)]
    [InlineData("unix:/tmp/video-edge-test.sock", "", null)]
    public async Task Binding_beyond_loopback_without_auth_warns_loudly(string listen, string flags, string? expected)
    {
        // Build only: the warning is decided from the settings, so nothing is ever bound to a real interface here.
        string[] args = ["--source", "test", "--listen", listen, .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        var (options, error) = OptionsParser.Parse(args, _ => null);
        Assert.True(options is not null, error);
        var logs = new LogCollector();
        await using var app = EdgeApp.Build(options, builder => builder.Logging.AddProvider(logs));
        var warnings = logs.Lines.Where(l => l.Level == LogLevel.Warning && l.Category == "VideoEdge.Security").Select(l => l.Message).ToList();
        if (expected is null)
        {
            Assert.Empty(warnings);
        }
        else
        {
            Assert.Contains(warnings, w => w.Contains(expected, StringComparison.Ordinal) && w.Contains(listen.Split(':')[0].Trim('['), StringComparison.Ordinal));
        }
        Assert.DoesNotContain(logs.Lines, l => l.Message.Contains(Token, StringComparison.Ordinal));
    }

    /// <summary>Keeps every log line written through it.</summary>
    private sealed class LogCollector : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Collector(LogCollector owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue((category, logLevel, formatter(state, exception)));
        }
    }
}
