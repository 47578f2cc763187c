using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VideoEdge.Configuration;
using VideoEdge.Security;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>Credentials on every endpoint but /healthz: Basic, Bearer and ?token=, right and wrong, over real HTTP.</summary>
public sealed class AuthTests(ITestOutputHelper output)
{
    private const string User = "viewer";
    private const string Password = "correct horse battery staple";
    private const string Token = "tok-3f9a2c71e8b54d06";

    private static string Basic(string user, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

    /// <summary>One way of (not) presenting credentials, and whether it should get in.</summary>
    private sealed record Credential(string Name, bool Valid, string? Authorization = null, string? QueryToken = null);

    private static readonly Credential[] s_credentials =
    [
        new("none", false),
        new("basic, wrong password", false, "Basic " + Basic(User, "wrong")),
        new("basic, wrong user", false, "Basic " + Basic("admin", Password)),
        new("basic, password as token", false, "Bearer " + Password),
        new("basic, not base64", false, "Basic !!!not-base64!!!"),
        new("basic, no colon", false, "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(User + Password))),
        new("bearer, wrong token", false, "Bearer " + Token + "x"),
        new("query, wrong token", false, QueryToken: Token[..^1]),
        new("query, empty token", false, QueryToken: ""),
        new("unknown scheme", false, "Digest " + Token),
        new("basic, right", true, "Basic " + Basic(User, Password)),
        new("basic, right, lower-case scheme", true, "basic " + Basic(User, Password)),
        new("bearer, right", true, "Bearer " + Token),
        new("query, right", true, QueryToken: Token),
    ];

    [Fact]
    public async Task Every_endpoint_but_healthz_needs_credentials_and_accepts_each_kind()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240",
            "--auth-user", User, "--auth-password", Password, "--auth-token", Token);
        await server.WaitForFramesAsync();
        var paths = EndpointPaths(server);
        output.WriteLine("endpoints: " + string.Join(" ", paths));
        Assert.Contains("/stream.mjpg", paths);
        Assert.Contains("/cams/main/ws", paths);
        Assert.Contains("/metrics", paths);
        Assert.Contains("/healthz", paths);

        // Redirects (/cams/NAME → the viewer page) are judged as answered: HttpClient would drop the credentials to follow them.
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(20) };
        var checkedCount = 0;
        // A path that matches no endpoint is refused too: unauthenticated clients learn nothing about what exists.
        foreach (var path in paths.Append("/no/such/path"))
        {
            foreach (var credential in s_credentials)
            {
                var url = credential.QueryToken is null ? path : path + (path.Contains('?') ? "&" : "?") + "token=" + Uri.EscapeDataString(credential.QueryToken);
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (credential.Authorization is { } authorization)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", authorization);
                }
                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
                var status = (int)response.StatusCode;
                var what = $"{path} with {credential.Name}: {status}";
                if (path == "/healthz")
                {
                    Assert.True(status == 200, what);
                }
                else if (credential.Valid)
                {
                    Assert.True(status is not 401 and < 500, what);
                }
                else
                {
                    Assert.True(status == 401, what);
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    var challenges = response.Headers.WwwAuthenticate.Select(h => h.Scheme).ToList();
                    Assert.Equal(["Basic", "Bearer"], challenges);
                    Assert.Contains("realm=\"video-edge\"", response.Headers.WwwAuthenticate.First().Parameter);
                }
                checkedCount++;
            }
        }
        output.WriteLine($"{checkedCount} endpoint × credential combinations checked");
        // Each refusal counted once: every path but /healthz, plus the unknown one, times each invalid credential.
        var refused = server.App.Services.GetRequiredService<Refusals>()[RefusalReason.Unauthorized];
        Assert.Equal((paths.Count - 1 + 1) * s_credentials.Count(c => !c.Valid), refused);
    }

    [Fact]
    public async Task Streams_and_snapshots_really_flow_with_each_right_credential()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240",
            "--auth-user", User, "--auth-password", Password, "--auth-token", Token);
        await server.WaitForFramesAsync();

        // <img src="/stream.mjpg?token=…"> cannot send headers: the token in the query must do.
        await using (var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg?token=" + Token))
        {
            Assert.True(Jpeg.HasMarkers((await viewer.ReadPartAsync()).Body));
        }
        using (var http = new HttpClient())
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Basic(User, Password));
            var jpeg = await http.GetByteArrayAsync(server.BaseUrl + "/snapshot.jpg");
            Assert.True(Jpeg.HasMarkers(jpeg));
        }

        // Browsers cannot set headers on WebSocket either.
        await using (var ws = await WebSocketViewer.ConnectAsync(new Uri(server.WebSocketBase, "/ws?token=" + Token)))
        {
            Assert.True(Jpeg.HasMarkers((await ws.ReadFrameAsync())!.Jpeg));
        }
        using (var bearer = new ClientWebSocket())
        {
            bearer.Options.SetRequestHeader("Authorization", "Bearer " + Token);
            await bearer.ConnectAsync(new Uri(server.WebSocketBase, "/ws"), CancellationToken.None);
            var buffer = new byte[256 * 1024];
            var result = await bearer.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Binary, result.MessageType);
            bearer.Abort();
        }

        using var refused = new ClientWebSocket();
        refused.Options.CollectHttpResponseDetails = true;
        await Assert.ThrowsAsync<WebSocketException>(() => refused.ConnectAsync(new Uri(server.WebSocketBase, "/ws?token=wrong"), CancellationToken.None));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.HttpStatusCode);
    }

    [Fact]
    public async Task The_challenge_names_only_the_configured_scheme()
    {
        await using (var basicOnly = await EdgeTestServer.StartAsync("--source", "test", "--auth-user", User, "--auth-password", Password))
        {
            using var response = await basicOnly.Http.GetAsync("/api/state");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Basic realm=\"video-edge\", charset=\"UTF-8\"", Assert.Single(response.Headers.WwwAuthenticate).ToString());
            // A token sent to a server that has none configured is just a wrong credential.
            using var withToken = await basicOnly.Http.GetAsync("/api/state?token=" + Token);
            Assert.Equal(HttpStatusCode.Unauthorized, withToken.StatusCode);
        }
        await using var tokenOnly = await EdgeTestServer.StartAsync("--source", "test", "--auth-token", Token);
        using (var response = await tokenOnly.Http.GetAsync("/api/state"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer realm=\"video-edge\"", Assert.Single(response.Headers.WwwAuthenticate).ToString());
        }
        using (var response = await tokenOnly.Http.GetAsync("/api/state?token=" + Token))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Without_auth_configured_everything_is_open()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test");
        await server.WaitForFramesAsync();
        using var response = await server.Http.GetAsync("/snapshot.jpg");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task A_password_file_as_systemd_credentials_write_it_works()
    {
        var file = Path.Combine(Path.GetTempPath(), $"video-edge-password-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, Password + "\n");
        try
        {
            await using var server = await EdgeTestServer.StartAsync("--source", "test", "--auth-user", User, "--auth-password-file", file);
            using var http = new HttpClient();
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Basic(User, Password));
            using var response = await http.GetAsync(server.BaseUrl + "/api/state");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("--auth-user u", "--auth-user needs --auth-password")]
    [InlineData("--auth-password p", "--auth-password needs --auth-user")]
    [InlineData("--auth-user a:b --auth-password p", "without ':'")]
    [InlineData("--auth-user u --auth-password p --auth-password-file /etc/hostname", "both given")]
    [InlineData("--auth-user u --auth-password-file /no/such/file", "a readable file holding the password")]
    [InlineData("--auth-token-file /no/such/file", "a readable file holding the token")]
    [InlineData("--tls-cert /no/cert.pem", "--tls-cert needs --tls-key")]
    [InlineData("--tls-key /no/key.pem", "--tls-key needs --tls-cert")]
    [InlineData("--tls-cert /no/cert.pem --tls-key /no/key.pem", "expected a PEM certificate")]
    [InlineData("--allow-origin example.com", "an origin such as")]
    [InlineData("--allow-origin https://example.com/path", "an origin such as")]
    [InlineData("--max-clients 0", "an integer from 1")]
    [InlineData("--max-clients-per-ip -1", "an integer from 0")]
    public void Inconsistent_security_settings_are_refused_with_the_reason(string flags, string expected)
    {
        var (options, error) = OptionsParser.Parse(flags.Split(' '), _ => null);
        Assert.Null(options);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void Settings_come_from_the_environment_too_and_origins_are_normalised()
    {
        var env = new Dictionary<string, string>
        {
            ["VIDEOEDGE_AUTH_TOKEN"] = Token,
            ["VIDEOEDGE_ALLOW_ORIGIN"] = "HTTPS://Example.COM:443; http://192.168.1.5:8123/",
            ["VIDEOEDGE_MAX_CLIENTS"] = "8",
        };
        var (options, error) = OptionsParser.Parse([], name => env.GetValueOrDefault(name));
        Assert.True(options is not null, error);
        Assert.Equal(Token, options.AuthToken);
        Assert.Equal(["https://example.com", "http://192.168.1.5:8123"], options.AllowedOrigins);
        Assert.Equal(8, options.MaxClients);
        Assert.Equal(16, options.MaxClientsPerIp);
    }

    [Fact]
    public async Task Secrets_and_guesses_never_reach_the_log()
    {
        const string WrongGuess = "guess-7d1e0b9a44";
        await using var server = await ProcessServer.StartAsync(["--source", "test", "--fps", "10", "--resolution", "320x240",
            "--auth-user", User, "--auth-password", Password, "--auth-token", Token]);
        var baseUri = new Uri(server.BaseUrl);
        using var http = new HttpClient { BaseAddress = baseUri };
        (await http.GetAsync("/snapshot.jpg?token=" + WrongGuess)).Dispose();
        (await http.GetAsync("/no/such/path?token=" + WrongGuess)).Dispose();
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/state"))
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Basic " + Basic(User, WrongGuess));
            (await http.SendAsync(request)).Dispose();
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/state"))
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + WrongGuess);
            (await http.SendAsync(request)).Dispose();
        }
        // Right ones, including a stream that is watched and left.
        (await http.GetAsync("/snapshot.jpg?token=" + Token)).Dispose();
        await using (var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg?token=" + Token))
        {
            await viewer.ReadPartAsync();
        }
        // A malformed request line carrying the secret.
        await using (var raw = await RawConnection.ConnectAsync(baseUri))
        {
            await raw.SendAsync($"GET /?token={Token} HTTP/1.1 junk\r\n\r\n");
            await raw.WaitForServerCloseAsync(TimeSpan.FromSeconds(5));
        }
        await Task.Delay(500);
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(10)));

        var log = server.Output;
        output.WriteLine(log);
        Assert.Contains("Refused GET /snapshot.jpg from 127.0.0.1", log);
        Assert.Contains("wrong credentials", log);
        foreach (var secret in new[] { Token, Password, WrongGuess, Basic(User, WrongGuess) })
        {
            Assert.DoesNotContain(secret, log);
        }
    }

    [Fact]
    public async Task Clients_that_answer_the_challenge_cause_no_warning_and_a_wrong_password_is_logged_with_its_action()
    {
        await using var server = await ProcessServer.StartAsync(["--source", "test", "--fps", "10", "--resolution", "320x240",
            "--auth-user", User, "--auth-password", Password]);
        var address = new Uri(server.BaseUrl).Authority;
        var dir = Directory.CreateTempSubdirectory("videoedge-challenge-");
        try
        {
            // ffmpeg and curl --anyauth send credentials only after the 401 challenge, as VLC does.
            var frame = Path.Combine(dir.FullName, "frame.jpg");
            var ffmpeg = await Deployment.Command.RunAsync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y",
                "-i", $"http://{User}:{Uri.EscapeDataString(Password)}@{address}/?action=stream", "-frames:v", "1", frame], timeout: TimeSpan.FromSeconds(60));
            Assert.True(ffmpeg.ExitCode == 0 && File.Exists(frame), ffmpeg.ToString());
            var curl = await Deployment.Command.RunAsync("curl", ["--fail", "--silent", "--show-error", "--max-time", "30", "--anyauth",
                "-u", $"{User}:{Password}", "-o", Path.Combine(dir.FullName, "snap.jpg"), $"http://{address}/?action=snapshot"]);
            Assert.True(curl.ExitCode == 0, curl.ToString());
            var wrong = await Deployment.Command.RunAsync("curl", ["--silent", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code}",
                "-u", $"{User}:wrong", $"http://{address}/?action=stream&token=not-logged"]);
            Assert.Equal("401", wrong.Output.Trim());

            using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Basic(User, Password));
            var metrics = await http.GetStringAsync("/metrics");
            // Every 401 is still counted: ffmpeg's and curl's first requests and the wrong password.
            var unauthorized = metrics.Split('\n').Single(l => l.StartsWith("videoedge_refusals_total{reason=\"unauthorized\"}", StringComparison.Ordinal));
            Assert.True(long.Parse(unauthorized.Split(' ')[1]) >= 3, unauthorized);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
        await Task.Delay(300);
        var log = server.Output;
        output.WriteLine(log);
        var refusals = log.Split('\n').Where(l => l.Contains("Refused", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(refusals);
        Assert.Contains("warn:", line);
        Assert.Contains("Refused GET /?action=stream from 127.0.0.1", line);
        Assert.Contains("wrong credentials", line);
        Assert.DoesNotContain("not-logged", line);
    }

    /// <summary>Every route the app maps, with route parameters filled in with the first camera's name.</summary>
    private static List<string> EndpointPaths(EdgeTestServer server)
    {
        var camera = server.Camera.Name;
        return [.. server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Select(e => "/" + string.Join('/', e.RoutePattern.PathSegments.Select(s =>
                string.Concat(s.Parts.Select(p => p switch
                {
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternLiteralPart literal => literal.Content,
                    Microsoft.AspNetCore.Routing.Patterns.RoutePatternSeparatorPart separator => separator.Content,
                    _ => camera,
                })))))
            .Distinct()
            .Order(StringComparer.Ordinal)];
    }
}
