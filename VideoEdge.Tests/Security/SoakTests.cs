using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>
/// 10,000 connect/stream/disconnect cycles across MJPEG, WebSocket and snapshot, many of them ended
/// abruptly, against the app in its own process (so its memory is measured alone): afterwards no
/// viewer, no stream slot and no frame may be left, and its resident memory must be where it was.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    private const int Cycles = 10_000;
    private const int WarmUpCycles = 3_000;
    private const int Workers = 16;
    private const long RssToleranceBytes = 6 * 1024 * 1024;

    private enum Ending { Graceful, Reset, ResetMidFrame }

    [Fact]
    public async Task Ten_thousand_cycles_leave_no_viewer_no_frame_and_no_memory_behind()
    {
        await using var server = await ProcessServer.StartAsync(["--source", "test", "--fps", "30", "--resolution", "320x240"]);
        var uri = new Uri(server.BaseUrl);
        using var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        var pid = server.Process.Id;

        var warmUp = await RunCyclesAsync(uri, WarmUpCycles, seed: 1);
        await SettleAsync(http);
        var rssBefore = ResidentBytes(pid);

        var clock = Stopwatch.StartNew();
        var peak = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, ResidentBytes(pid));
                await Task.Delay(250);
            }
        });
        var counts = await RunCyclesAsync(uri, Cycles, seed: 20261124);
        var elapsed = clock.Elapsed;
        await sampling.CancelAsync();
        await sampler;
        var state = await SettleAsync(http);
        var rssAfter = ResidentBytes(pid);

        output.WriteLine($"warm-up: {WarmUpCycles} cycles ({Describe(warmUp)})");
        output.WriteLine($"soak: {Cycles} cycles in {elapsed.TotalSeconds:0.0} s ({Cycles / elapsed.TotalSeconds:0} per second, {Workers} clients at a time): {Describe(counts)}");
        output.WriteLine($"server RSS: {rssBefore / 1048576.0:0.0} MB after warm-up, peak {peak / 1048576.0:0.0} MB, {rssAfter / 1048576.0:0.0} MB after ({(rssAfter - rssBefore) / 1048576.0:+0.0;-0.0} MB)");
        var pool = state.GetProperty("pool");
        output.WriteLine($"pool: {pool}; viewers {state.GetProperty("viewers")}; limits {state.GetProperty("limits")}");

        Assert.Equal(Cycles, counts.Values.Sum());
        Assert.Equal(0, counts.GetValueOrDefault("refused 503"));
        Assert.Equal(0, state.GetProperty("viewers").GetInt32());
        Assert.Equal(0, state.GetProperty("clients").GetArrayLength());
        Assert.Equal(0, state.GetProperty("limits").GetProperty("streams").GetInt32());
        Assert.Equal(0, pool.GetProperty("misuse").GetInt64());
        // The hub holds the latest frame; nothing else may.
        Assert.InRange(pool.GetProperty("outstanding").GetInt64(), 0, 1);
        Assert.True(rssAfter - rssBefore <= RssToleranceBytes,
            $"resident memory grew by {(rssAfter - rssBefore) / 1048576.0:0.0} MB over {Cycles} cycles");
        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>Runs <paramref name="cycles"/> cycles on <see cref="Workers"/> clients, each from its own loopback address; counts them by kind.</summary>
    private static async Task<ConcurrentDictionary<string, int>> RunCyclesAsync(Uri uri, int cycles, int seed)
    {
        var counts = new ConcurrentDictionary<string, int>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(seed * 31 + worker);
            var from = IPAddress.Parse("127.0.0." + (100 + worker));
            while (Interlocked.Increment(ref next) < cycles)
            {
                var kind = await CycleAsync(uri, from, random);
                counts.AddOrUpdate(kind, 1, (_, n) => n + 1);
            }
        })));
        return counts;
    }

    private static async Task<string> CycleAsync(Uri uri, IPAddress from, Random random)
    {
        var ending = (Ending)random.Next(3);
        var pick = random.Next(10);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var c = await RawConnection.ConnectAsync(uri, from, cancellation: timeout.Token);
        try
        {
            string kind;
            if (pick < 4)
            {
                kind = "mjpeg";
                await c.SendAsync(RawConnection.Get("/stream.mjpg" + (random.Next(4) == 0 ? "?fps=10" : "")), timeout.Token);
                var head = await c.ReadHeadAsync(timeout.Token);
                if (head.Status == 503)
                {
                    return "refused 503";
                }
                Assert.Equal(200, head.Status);
                var frames = 1 + random.Next(3);
                for (var i = 0; i < frames; i++)
                {
                    await c.ReadMjpegPartAsync(timeout.Token);
                }
            }
            else if (pick < 7)
            {
                kind = "websocket";
                var head = await c.WebSocketHandshakeAsync(random.Next(3) == 0 ? "/ws?meta=1" : "/ws", cancellation: timeout.Token);
                if (head.Status == 503)
                {
                    return "refused 503";
                }
                Assert.Equal(101, head.Status);
                Assert.NotNull(await c.ReadWebSocketJpegAsync(timeout.Token));
                if (ending == Ending.Graceful)
                {
                    await c.SendAsync(RawConnection.WebSocketFrame(8, [0x03, 0xE8]), timeout.Token);
                }
            }
            else
            {
                kind = "snapshot";
                await c.SendAsync(RawConnection.Get("/snapshot.jpg" + (random.Next(4) == 0 ? "?fresh=1" : "")), timeout.Token);
                var head = await c.ReadHeadAsync(timeout.Token);
                Assert.Equal(200, head.Status);
                if (ending != Ending.ResetMidFrame)
                {
                    Assert.True(Jpeg.HasMarkers(await c.ReadBodyAsync(head, timeout.Token)));
                }
            }
            if (ending == Ending.ResetMidFrame)
            {
                await c.ReadSomeAsync(1 + random.Next(4000), timeout.Token);
            }
            if (ending == Ending.Graceful)
            {
                c.Socket.Shutdown(SocketShutdown.Send);
                await c.DisposeAsync();
            }
            else
            {
                c.Reset();
            }
            return $"{kind} ({ending})";
        }
        catch
        {
            c.Reset();
            throw;
        }
    }

    /// <summary>Waits until no viewer and no stream slot is left, then a little longer for the runtime to settle; returns /api/state.</summary>
    private static async Task<JsonElement> SettleAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        JsonElement state;
        while (true)
        {
            state = JsonDocument.Parse(await http.GetStringAsync("/api/state")).RootElement;
            if (state.GetProperty("viewers").GetInt32() == 0 && state.GetProperty("limits").GetProperty("streams").GetInt32() == 0)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, "viewers still registered 15 s after the last client left: " + state.GetProperty("clients"));
            await Task.Delay(100);
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        return JsonDocument.Parse(await http.GetStringAsync("/api/state")).RootElement;
    }

    /// <summary>VmRSS of a process, from /proc.</summary>
    private static long ResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException("no VmRSS for process " + pid);
    }

    private static string Describe(ConcurrentDictionary<string, int> counts) =>
        string.Join(", ", counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} ×{c.Value}"));
}
