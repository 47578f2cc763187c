using System.Diagnostics;
using System.Net;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>
/// Clients that hold connections without finishing requests, stop reading, or vanish mid-frame:
/// each costs the server only its own connection, for a bounded time, and leaves nothing behind.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class SlowAndBrokenClientTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Slowloris_and_silent_connections_are_dropped_while_viewers_and_requests_carry_on()
    {
        await using var watched = await WatchedServer.StartAsync();
        var uri = watched.Uri;
        var attacker = IPAddress.Parse("127.0.0.40");
        var clock = Stopwatch.StartNew();

        // Trickle: a request that never ends, one byte every half second.
        var trickling = Enumerable.Range(0, 100).Select(_ => Task.Run(async () =>
        {
            await using var c = await RawConnection.ConnectAsync(uri, attacker);
            await c.SendAsync("GET /api/state HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            var started = clock.Elapsed;
            try
            {
                for (var i = 0; i < 60; i++)
                {
                    await c.SendAsync("a");
                    if (await c.WaitForServerCloseAsync(TimeSpan.FromMilliseconds(500)))
                    {
                        return clock.Elapsed - started;
                    }
                }
            }
            catch (System.Net.Sockets.SocketException)
            {
                return clock.Elapsed - started;
            }
            return TimeSpan.MaxValue;
        })).ToList();
        // Silent: connect and send nothing at all.
        var silent = Enumerable.Range(0, 100).Select(_ => Task.Run(async () =>
        {
            await using var c = await RawConnection.ConnectAsync(uri, attacker);
            var started = clock.Elapsed;
            return await c.WaitForServerCloseAsync(TimeSpan.FromSeconds(30)) ? clock.Elapsed - started : TimeSpan.MaxValue;
        })).ToList();

        // Meanwhile ordinary requests are answered promptly.
        var slowest = TimeSpan.Zero;
        while (!trickling.All(t => t.IsCompleted))
        {
            var request = Stopwatch.StartNew();
            using var response = await watched.Server.Http.GetAsync("/api/state");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            slowest = request.Elapsed > slowest ? request.Elapsed : slowest;
            await Task.Delay(250);
        }
        var trickled = await Task.WhenAll(trickling);
        var idle = await Task.WhenAll(silent);
        output.WriteLine($"trickling requests dropped after {trickled.Min().TotalSeconds:0.0}–{trickled.Max().TotalSeconds:0.0} s; " +
            $"silent connections after {idle.Min().TotalSeconds:0.0}–{idle.Max().TotalSeconds:0.0} s; slowest ordinary request meanwhile {slowest.TotalMilliseconds:0} ms");
        // Kestrel checks its timeouts once a second: RequestHeadersTimeout 5 s, KeepAliveTimeout 15 s.
        Assert.All(trickled, t => Assert.InRange(t.TotalSeconds, 4, 10));
        Assert.All(idle, t => Assert.InRange(t.TotalSeconds, 14, 21));
        Assert.True(slowest < TimeSpan.FromSeconds(1), $"an ordinary request took {slowest.TotalMilliseconds:0} ms during the attack");
        await watched.AssertUndisturbedAsync(output);
    }

    [Fact]
    public async Task Viewers_that_stop_reading_are_cut_off_after_the_send_timeout_and_their_frames_returned()
    {
        await using var watched = await WatchedServer.StartAsync("--send-timeout", "2");
        var uri = watched.Uri;
        var stalled = new List<RawConnection>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                // A small receive window, so the server's writes block soon instead of filling megabytes of kernel buffer.
                var c = await RawConnection.ConnectAsync(uri, IPAddress.Parse("127.0.0.41"), receiveBufferBytes: 4096);
                stalled.Add(c);
                if (i % 2 == 0)
                {
                    await c.SendAsync(RawConnection.Get("/stream.mjpg"));
                    Assert.Equal(200, (await c.ReadHeadAsync()).Status);
                }
                else
                {
                    Assert.Equal(101, (await c.WebSocketHandshakeAsync("/ws")).Status);
                }
            }
            // A WebSocket viewer registers just after its 101 is sent.
            var clock = Stopwatch.StartNew();
            while (watched.Server.Camera.Hub.ViewerCount < 11)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"only {watched.Server.Camera.Hub.ViewerCount} viewers registered");
                await Task.Delay(10);
            }
            Assert.True(await watched.WaitForOnlyWitnessAsync(TimeSpan.FromSeconds(12)), $"{watched.Server.Camera.Hub.ViewerCount - 1} stalled viewers still connected");
            output.WriteLine($"10 stalled viewers cut off within {clock.Elapsed.TotalSeconds:0.0} s of connecting (send timeout 2 s)");
            Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1.5), "cut off before the send timeout could have passed");
            foreach (var c in stalled)
            {
                Assert.True(await c.WaitForServerCloseAsync(TimeSpan.FromSeconds(5)), "the server left a stalled viewer's connection open");
            }
        }
        finally
        {
            foreach (var c in stalled)
            {
                await c.DisposeAsync();
            }
        }
        await watched.AssertUndisturbedAsync(output);
    }

    [Fact]
    public async Task Clients_that_reset_mid_frame_leave_no_stream_no_slot_and_no_frame_behind()
    {
        await using var watched = await WatchedServer.StartAsync();
        var uri = watched.Uri;
        const int Clients = 300;
        var next = -1;
        var kinds = new int[3];
        var workers = Enumerable.Range(0, 10).Select(worker => Task.Run(async () =>
        {
            var random = new Random(7919 * (worker + 1));
            var from = IPAddress.Parse("127.0.0." + (50 + worker));
            while (Interlocked.Increment(ref next) < Clients)
            {
                var kind = random.Next(3);
                Interlocked.Increment(ref kinds[kind]);
                var c = await RawConnection.ConnectAsync(uri, from);
                switch (kind)
                {
                    case 0:
                        await c.SendAsync(RawConnection.Get("/stream.mjpg"));
                        Assert.Equal(200, (await c.ReadHeadAsync()).Status);
                        if (random.Next(2) == 0)
                        {
                            await c.ReadMjpegPartAsync();
                        }
                        await c.ReadSomeAsync(random.Next(1, 6000));
                        break;
                    case 1:
                        Assert.Equal(101, (await c.WebSocketHandshakeAsync("/ws")).Status);
                        await c.ReadSomeAsync(random.Next(1, 6000));
                        break;
                    default:
                        await c.SendAsync(RawConnection.Get("/snapshot.jpg?fresh=" + random.Next(2)));
                        if (random.Next(2) == 0)
                        {
                            await c.ReadHeadAsync();
                            await c.ReadSomeAsync(random.Next(1, 6000));
                        }
                        break;
                }
                c.Reset();
            }
        })).ToList();
        await Task.WhenAll(workers);
        output.WriteLine($"{Clients} clients reset mid-frame: {kinds[0]} MJPEG, {kinds[1]} WebSocket, {kinds[2]} snapshot");
        Assert.True(await watched.WaitForOnlyWitnessAsync(TimeSpan.FromSeconds(10)), "streams of reset clients still registered");
        var limits = JsonDocument.Parse(await watched.Server.Http.GetStringAsync("/api/state")).RootElement.GetProperty("limits");
        Assert.Equal(1, limits.GetProperty("streams").GetInt32());
        await watched.AssertUndisturbedAsync(output);
    }
}
