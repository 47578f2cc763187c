using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>
/// Malformed, oversized, pipelined and otherwise hostile HTTP against a live server while a witness
/// viewer counts its frames: nothing may crash the server (no 500), hang it, or disturb the viewer.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class HostileInputTests(ITestOutputHelper output)
{
    private const int Seed = 20261124;

    [Fact]
    public async Task Seeded_random_mutations_of_valid_requests_neither_crash_the_server_nor_disturb_a_viewer()
    {
        await using var watched = await WatchedServer.StartAsync();
        var outcomes = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        var budget = Stopwatch.StartNew();
        const int MaxCases = 3000;
        var tried = 0;
        var workers = Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            var mutator = new RequestMutator(Seed + worker);
            var random = new Random(Seed - worker);
            var from = IPAddress.Parse("127.0.0." + (30 + worker));
            while (budget.Elapsed < TimeSpan.FromSeconds(15) && Interlocked.Increment(ref tried) <= MaxCases)
            {
                var (name, bytes) = mutator.Next();
                var outcome = await RunCaseAsync(watched.Uri, from, bytes, random);
                outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
                if (outcome.StartsWith('5') && outcome != "505")
                {
                    failures.Enqueue($"{outcome} for {name}: {Printable(bytes)}");
                }
            }
        })).ToList();
        await Task.WhenAll(workers);
        var total = outcomes.Values.Sum();
        output.WriteLine($"{total} mutated requests tried in {budget.Elapsed.TotalSeconds:0.0} s (seed {Seed}): " +
            string.Join(", ", outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} ×{o.Value}")));
        Assert.True(total >= 500, $"only {total} cases ran");
        Assert.True(failures.IsEmpty, "server errors:\n" + string.Join("\n", failures.Take(10)));
        await watched.AssertUndisturbedAsync(output);
    }

    /// <summary>Sends one case, sometimes in pieces; reads the answer's status, or how the server ended it.</summary>
    private static async Task<string> RunCaseAsync(Uri server, IPAddress from, byte[] bytes, Random random)
    {
        await using var connection = await RawConnection.ConnectAsync(server, from);
        try
        {
            var pieces = random.Next(3) + 1;
            var at = 0;
            for (var p = 0; p < pieces; p++)
            {
                var end = p == pieces - 1 ? bytes.Length : random.Next(at, bytes.Length + 1);
                await connection.SendAsync(bytes.AsMemory(at, end - at));
                at = end;
                if (p < pieces - 1)
                {
                    await Task.Delay(random.Next(30));
                }
            }
            if (random.Next(10) < 7)
            {
                connection.Socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (SocketException)
        {
            // The server may close on the first bad byte, before the rest is sent.
            return "closed while sending";
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        try
        {
            var head = await connection.ReadHeadAsync(timeout.Token);
            if (head.Status is 200 or 101 && random.Next(2) == 0)
            {
                await connection.ReadSomeAsync(4096, timeout.Token);
            }
            if (random.Next(2) == 0)
            {
                connection.Reset();
            }
            return head.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is EndOfStreamException or SocketException)
        {
            return "closed without an answer";
        }
        catch (OperationCanceledException)
        {
            return "waiting for more input";
        }
    }

    [Fact]
    public async Task Hand_written_hostile_requests_get_the_right_4xx_and_the_connection_stays_sane()
    {
        await using var watched = await WatchedServer.StartAsync();
        var uri = watched.Uri;
        var cases = new (string Name, string Request, int Status)[]
        {
            ("request line over 4 KB", $"GET /{new string('a', 5000)} HTTP/1.1\r\nHost: x\r\n\r\n", 414),
            ("headers over 16 KB", $"GET /api/state HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 17_000)}\r\n\r\n", 431),
            ("51 headers", "GET /api/state HTTP/1.1\r\nHost: x\r\n" + string.Concat(Enumerable.Range(0, 51).Select(i => $"X-{i}: v\r\n")) + "\r\n", 431),
            ("NUL in a header", "GET /api/state HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 400),
            ("HTTP/1.1 without Host", "GET /api/state HTTP/1.1\r\n\r\n", 400),
            ("two Host headers", "GET /api/state HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("Content-Length not a number", "GET /api/state HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
            ("space before the colon", "GET /api/state HTTP/1.1\r\nHost: x\r\nX-A : v\r\n\r\n", 400),
            ("folded header", "GET /api/state HTTP/1.1\r\nHost: x\r\nX-A: v\r\n w\r\n\r\n", 400),
            ("not HTTP at all", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello TLS\r\n\r\n", 400),
            ("unknown action", "GET /?action=reboot HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("unknown camera", "GET /cams/nope/stream.mjpg HTTP/1.1\r\nHost: x\r\n\r\n", 404),
            ("POST to a stream", "POST /stream.mjpg HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
            ("plain GET of the WebSocket", "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("WebSocket key not base64", WebSocketHandshake("Sec-WebSocket-Key: not-base64!!\r\nSec-WebSocket-Version: 13"), 400),
            ("WebSocket key of 3 bytes", WebSocketHandshake("Sec-WebSocket-Key: AAAA\r\nSec-WebSocket-Version: 13"), 400),
            ("WebSocket without a key", WebSocketHandshake("Sec-WebSocket-Version: 13"), 400),
            ("WebSocket version 8", WebSocketHandshake("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8"), 400),
            ("WebSocket over POST", "POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n", 405),
        };
        var fpsValues = new[] { "-1", "0", "abc", "NaN", "Infinity", "-Infinity", "1e309", "1e2", "241", "1,5", "0x10", "%205", "5%20", "", "%00", "99999999999999999999", "1.5.5", "+5", "٣" };
        var all = cases.ToList();
        foreach (var fps in fpsValues)
        {
            all.Add(($"?fps={fps} on MJPEG", $"GET /stream.mjpg?fps={fps} HTTP/1.1\r\nHost: x\r\n\r\n", 400));
            all.Add(($"?fps={fps} on WebSocket", WebSocketHandshake("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13", $"/ws?fps={fps}"), 400));
        }
        all.Add(("?fps twice", "GET /stream.mjpg?fps=1&fps=2 HTTP/1.1\r\nHost: x\r\n\r\n", 400));
        all.Add(("?fresh=yes", "GET /snapshot.jpg?fresh=yes HTTP/1.1\r\nHost: x\r\n\r\n", 400));
        all.Add(("?meta=2", "GET /ws?meta=2 HTTP/1.1\r\nHost: x\r\n\r\n", 400));

        foreach (var (name, request, status) in all)
        {
            await using var connection = await RawConnection.ConnectAsync(uri);
            await connection.SendAsync(request);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var head = await connection.ReadHeadAsync(timeout.Token);
            Assert.True(head.Status == status, $"{name}: expected {status}, got {head.Status}");
            if (status == 400 && head["Content-Type"] == "application/problem+json")
            {
                var problem = JsonDocument.Parse(await connection.ReadBodyAsync(head, timeout.Token)).RootElement;
                Assert.Equal(400, problem.GetProperty("status").GetInt32());
            }
        }
        output.WriteLine($"{all.Count} hand-written hostile requests answered as expected");
        await watched.AssertUndisturbedAsync(output);
    }

    [Fact]
    public async Task HTTP_1_0_clients_pipelined_requests_and_bodies_on_GET_are_served_correctly()
    {
        await using var watched = await WatchedServer.StartAsync();
        var uri = watched.Uri;

        // HTTP/1.0 snapshot: no Host, no chunking, the connection closes after the JPEG.
        await using (var old = await RawConnection.ConnectAsync(uri))
        {
            await old.SendAsync("GET /snapshot.jpg HTTP/1.0\r\n\r\n");
            var head = await old.ReadHeadAsync();
            Assert.Equal(200, head.Status);
            Assert.Null(head["Transfer-Encoding"]);
            var jpeg = await old.ReadBodyAsync(head);
            Assert.True(Jpeg.HasMarkers(jpeg));
            Assert.True(await old.WaitForServerCloseAsync(TimeSpan.FromSeconds(5)));
        }
        // HTTP/1.0 stream: parts follow the head directly (no chunked framing).
        await using (var old = await RawConnection.ConnectAsync(uri))
        {
            await old.SendAsync("GET /stream.mjpg HTTP/1.0\r\n\r\n");
            var head = await old.ReadHeadAsync();
            Assert.Equal(200, head.Status);
            Assert.Null(head["Transfer-Encoding"]);
            var first = await old.ReadMjpegPartAsync();
            var second = await old.ReadMjpegPartAsync();
            Assert.True(second.Sequence > first.Sequence);
        }
        // Three pipelined requests in one packet: three answers, in order.
        await using (var pipelined = await RawConnection.ConnectAsync(uri))
        {
            await pipelined.SendAsync("GET /api/state HTTP/1.1\r\nHost: x\r\n\r\nGET /snapshot.jpg HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
            var state = await pipelined.ReadHeadAsync();
            Assert.Equal("application/json", state["Content-Type"]?.Split(';')[0]);
            JsonDocument.Parse(await pipelined.ReadBodyAsync(state));
            var snapshot = await pipelined.ReadHeadAsync();
            Assert.Equal("image/jpeg", snapshot["Content-Type"]);
            Assert.True(Jpeg.HasMarkers(await pipelined.ReadBodyAsync(snapshot)));
            var health = await pipelined.ReadHeadAsync();
            Assert.Equal("ok\nmain: streaming\n", Encoding.UTF8.GetString(await pipelined.ReadBodyAsync(health)));
        }
        // A body on a GET is skipped, and the next request on the connection is read correctly.
        await using (var withBody = await RawConnection.ConnectAsync(uri))
        {
            // The body looks like a request of its own: it must be skipped as body, not run.
            const string Body = "GET /evil HTTP/1.1\r\n\r\n";
            await withBody.SendAsync($"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: {Body.Length}\r\n\r\n{Body}GET /snapshot.jpg HTTP/1.1\r\nHost: x\r\n\r\n");
            var first = await withBody.ReadHeadAsync();
            Assert.Equal(200, first.Status);
            await withBody.ReadBodyAsync(first);
            var second = await withBody.ReadHeadAsync();
            Assert.Equal("image/jpeg", second["Content-Type"]);
        }
        // A body beyond the 16 KB request limit is not read into memory: the server gives up on the connection.
        await using (var hugeBody = await RawConnection.ConnectAsync(uri))
        {
            await hugeBody.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + new string('x', 1000));
            var head = await hugeBody.ReadHeadAsync();
            Assert.True(head.Status is 200 or 413, "status " + head.Status);
            Assert.True(await hugeBody.WaitForServerCloseAsync(TimeSpan.FromSeconds(10)), "the server kept reading an oversized body");
        }
        await watched.AssertUndisturbedAsync(output);
    }

    private static string WebSocketHandshake(string keyAndVersion, string path = "/ws") =>
        $"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{keyAndVersion}\r\n\r\n";

    private static string Printable(byte[] bytes)
    {
        var text = Encoding.Latin1.GetString(bytes, 0, Math.Min(bytes.Length, 300));
        return new string([.. text.Select(c => c is >= ' ' and < '\x7f' ? c : '.')]);
    }
}
