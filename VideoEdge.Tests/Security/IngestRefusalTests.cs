using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>Wrong ingest tokens are counted, logged once per address and slowed to a trickle.</summary>
public sealed class IngestRefusalTests(ITestOutputHelper output)
{
    private const string Token = "s3cret-ingest-token";

    [Fact]
    public async Task Token_guessing_is_counted_logged_once_and_throttled_per_address()
    {
        await using var server = await ProcessServer.StartAsync(["--camera", "cam=remote", "--ingest-token", Token, "--resolution", "320x240"]);
        var port = new Uri(server.BaseUrl).Port;
        using var guesser = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var statuses = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        var started = DateTime.UtcNow;
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= 500)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"{server.BaseUrl}/cams/cam/ingest");
                request.Headers.Authorization = new("Bearer", "guess-" + i);
                using var response = await guesser.SendAsync(request);
                statuses.Add(response.StatusCode);
            }
        })));
        var seconds = (DateTime.UtcNow - started).TotalSeconds;
        var checkedTokens = statuses.Count(s => s == HttpStatusCode.Unauthorized);
        output.WriteLine($"500 guesses in {seconds:0.0} s: {checkedTokens} answered 401, {statuses.Count(s => s == HttpStatusCode.TooManyRequests)} 429");
        // A burst of ten, then about one a second: the rest are turned away without a look at the token.
        Assert.InRange(checkedTokens, 10, 10 + (int)Math.Ceiling(seconds) + 2);
        Assert.Equal(500, checkedTokens + statuses.Count(s => s == HttpStatusCode.TooManyRequests));

        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        using (var state = JsonDocument.Parse(await http.GetStringAsync("/cams/cam/state")))
        {
            Assert.Equal(500, state.RootElement.GetProperty("limits").GetProperty("refused").GetProperty("ingestToken").GetInt64());
        }
        Assert.Contains("videoedge_refusals_total{reason=\"ingest_token\"} 500", await http.GetStringAsync("/metrics"));
        var lines = server.Output.Split('\n').Where(l => l.Contains("Refused ingest from 127.0.0.1", StringComparison.Ordinal)).ToList();
        output.WriteLine(string.Join("\n", lines));
        Assert.Single(lines);
        Assert.DoesNotContain("guess-", server.Output);

        // The right token from another address is not held up by this one's guesses...
        using (var other = await ConnectFromAsync(IPAddress.Parse("127.0.0.2"), port, Token))
        {
            Assert.Equal(WebSocketState.Open, other.State);
        }
        // ...and this address gets its turn back once it stops guessing.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using var again = await ConnectFromAsync(IPAddress.Loopback, port, Token);
        Assert.Equal(WebSocketState.Open, again.State);
    }

    /// <summary>A producer's WebSocket from the given local address (any 127.x address is loopback on Linux).</summary>
    private static async Task<ClientWebSocket> ConnectFromAsync(IPAddress local, int port, string token)
    {
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellation) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(local, 0));
                await socket.ConnectAsync(context.DnsEndPoint, cancellation);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        using var invoker = new HttpMessageInvoker(handler, disposeHandler: false);
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/cams/cam/ingest"), invoker, CancellationToken.None);
        return socket;
    }
}
