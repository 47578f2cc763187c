using System.Net;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.MultiCamera;

namespace VideoEdge.Tests.Bus;

/// <summary>
/// Issue 15 with real parts on loopback: Debian's nats-server, two producers (`video-edge push` to the
/// bus, and a hub publishing its own test-pattern camera with --publish-to-bus), three hubs serving
/// both cameras from the bus, and Debian's HAProxy round-robin in front of the hubs. Every frame is
/// judged against what a plain NATS subscriber (the tap) saw on the bus.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class ScaleOutTests
{
    private static readonly string[] s_cameras = ["shed", "yard"];

    [Fact]
    public async Task Three_hubs_behind_haproxy_fan_out_pause_survive_a_bus_restart_and_a_dead_hub()
    {
        await using var nats = await ChildProcess.NatsServerAsync();
        var bus = $"nats://127.0.0.1:{nats.Port}";
        await using var tap = await BusTap.StartAsync(bus, s_cameras);
        await using var push = await ProcessServer.LaunchAsync(["push", "--source", "test", "--fps", "10", "--resolution", "320x240", "--to", bus + "/shed"]);
        string[] common = ["--bus", bus, "--resolution", "320x240", "--bus-frame-timeout", "10", "--snapshot-timeout", "15"];
        var hubs = new List<EdgeTestServer>
        {
            await EdgeTestServer.StartAsync([.. common, "--camera", "shed=bus", "--camera", "yard=bus"]),
            await EdgeTestServer.StartAsync([.. common, "--camera", "shed=bus", "--camera", "yard=bus"]),
            // Producer and hub at once: its own camera goes on the bus, and it serves it (and shed) too.
            await EdgeTestServer.StartAsync([.. common, "--camera", "shed=bus", "--camera", "yard=test", "--fps", "10", "--slowdown", "--publish-to-bus"]),
        };
        try
        {
            await using var balancer = await ChildProcess.HaProxyAsync(hubs.Select(h => new Uri(h.BaseUrl).Port));
            var front = $"http://127.0.0.1:{balancer.Port}";
            // HAProxy counts a hub up after two passed checks (rise 2, inter 500 ms).
            await Task.Delay(TimeSpan.FromSeconds(3));

            // 1. Viewers spread over all hubs each receive their camera's frames, byte for byte as on the bus.
            var viewers = new List<(string Camera, MjpegClient Client)>();
            foreach (var camera in new[] { "shed", "shed", "shed", "yard", "yard", "yard" })
            {
                viewers.Add((camera, await MjpegClient.ConnectAsync($"{front}/cams/{camera}/stream.mjpg")));
            }
            await ChainTests.WaitUntilAsync(() => hubs.Sum(ViewerCount) == 6, "six viewers counted by the hubs", 30);
            Assert.All(hubs, h => Assert.True(ViewerCount(h) >= 1, "round-robin put no viewer on a hub"));
            var seen = await Task.WhenAll(viewers.Select(v => ReadAsync(v.Client, 40, TimeSpan.FromSeconds(90))));
            // The tap may store a frame a moment after a hub served it.
            await Task.Delay(1000);
            for (var i = 0; i < viewers.Count; i++)
            {
                AssertSameFramesAsBus(tap, viewers[i].Camera, seen[i]);
            }
            foreach (var camera in s_cameras)
            {
                var sequences = tap.Frames[camera].Values.Select(f => f.Sequence).Order().ToList();
                Assert.True(sequences.Count >= 40, $"{camera}: only {sequences.Count} frames on the bus");
                Assert.Equal(Enumerable.Range((int)sequences[0], sequences.Count).Select(x => (long)x), sequences);
            }
            foreach (var (_, client) in viewers)
            {
                await client.DisposeAsync();
            }

            // 2. Nobody watching anywhere: both producers pause (nothing on the bus)...
            await WaitForSilenceAsync(tap);
            Assert.Contains("no hub has a viewer", push.Output);
            // ...a snapshot on a hub gets a fresh frame from the paused producer...
            var asked = DateTime.UtcNow;
            using var snapshot = await hubs[1].Http.GetAsync("/cams/shed/snapshot.jpg");
            Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);
            var jpeg = await snapshot.Content.ReadAsByteArrayAsync();
            Assert.Contains(tap.Frames["shed"].Values, f => f.ReceivedUtc >= asked && f.Jpeg.AsSpan().SequenceEqual(jpeg));
            await WaitForSilenceAsync(tap);
            // ...and the first viewer resumes it.
            var viewer = await MjpegClient.ConnectAsync($"{front}/cams/shed/stream.mjpg");
            var resumed = await ReadAsync(viewer, 10, TimeSpan.FromSeconds(60));
            await Task.Delay(1000);
            AssertSameFramesAsBus(tap, "shed", resumed);

            // 3. The bus restarts: no-signal with the reason, then live again, nothing else restarted.
            await nats.KillAsync();
            await ChainTests.WaitUntilAsync(() => hubs.All(h => h.Cameras.TryGet("shed", out var c) && c.Capture.OfflineReason?.Contains("bus") == true),
                "every hub shows shed offline because of the bus", 30);
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            {
                // The viewer keeps its stream and gets the no-signal picture (a frame that was never on the bus).
                while (tap.Frames["shed"].ContainsKey((await viewer.ReadPartAsync(timeout.Token)).Headers["X-Timestamp"]))
                {
                }
            }
            await nats.StartAgainAsync();
            var restarted = DateTime.UtcNow;
            await ReadUntilLiveAsync(tap, viewer, "shed", restarted, TimeSpan.FromSeconds(60));
            // The other hubs reopen their bus source on their own retry schedule: soon, not at the same instant.
            await ChainTests.WaitUntilAsync(() => hubs.All(h => h.Cameras.TryGet("shed", out var c) && c.Capture.Online),
                "every hub shows shed online again after the bus restart", 30);

            // 4. The viewer's hub dies: it reconnects through the balancer and continues on another hub.
            var victim = hubs.Single(h => ViewerCount(h) == 1);
            hubs.Remove(victim);
            await victim.DisposeAsync();
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                while (true)
                {
                    await viewer.ReadPartAsync(timeout.Token);
                }
            });
            await viewer.DisposeAsync();
            var reconnected = DateTime.UtcNow;
            await using var again = await MjpegClient.ConnectAsync($"{front}/cams/shed/stream.mjpg");
            await ReadUntilLiveAsync(tap, again, "shed", reconnected, TimeSpan.FromSeconds(60));
            Assert.Equal(1, hubs.Sum(ViewerCount));
        }
        finally
        {
            foreach (var hub in hubs)
            {
                await hub.DisposeAsync();
            }
        }
    }

    /// <summary>Viewers of the hub, not counting hub 3's own publisher (it watches its camera like a viewer while the bus has demand).</summary>
    private static int ViewerCount(EdgeTestServer hub) => hub.Cameras.All.Sum(c => c.Hub.Viewers.Count(v => v.Client.Transport != "bus"));

    private static async Task<List<MjpegPart>> ReadAsync(MjpegClient client, int parts, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var list = new List<MjpegPart>();
        while (list.Count < parts)
        {
            list.Add(await client.ReadPartAsync(timeout.Token));
        }
        return list;
    }

    /// <summary>
    /// After any no-signal pictures shown before the producer resumed, every part is a frame that was
    /// on the bus (same capture time, same bytes), in the producer's order, and most of the producer's
    /// frames arrived (a viewer may skip frames when it is slow; it must not get others).
    /// </summary>
    private static void AssertSameFramesAsBus(BusTap tap, string camera, List<MjpegPart> parts)
    {
        var onBus = tap.Frames[camera];
        var first = parts.FindIndex(p => onBus.ContainsKey(p.Headers["X-Timestamp"]));
        Assert.True(first >= 0, $"{camera}: none of {parts.Count} parts was a frame from the bus");
        var sequences = new List<long>();
        foreach (var part in parts.Skip(first))
        {
            Assert.True(onBus.TryGetValue(part.Headers["X-Timestamp"], out var frame), $"{camera}: a part (X-Timestamp {part.Headers["X-Timestamp"]}) that was never on the bus");
            Assert.True(frame.Jpeg.AsSpan().SequenceEqual(part.Body), $"{camera}: frame {frame.Sequence} differs from the bus's bytes");
            sequences.Add(frame.Sequence);
        }
        Assert.True(sequences.Zip(sequences.Skip(1)).All(p => p.Second > p.First), $"{camera}: producer sequences out of order: {string.Join(",", sequences)}");
        var span = sequences[^1] - sequences[0] + 1;
        Assert.True(sequences.Count >= span / 2, $"{camera}: only {sequences.Count} of the producer's {span} frames arrived: {string.Join(",", sequences)}");
    }

    /// <summary>Both producers paused: no frame on the bus for 3 s in a row (within a generous minute).</summary>
    private static async Task WaitForSilenceAsync(BusTap tap)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var quietSince = DateTime.UtcNow.AddSeconds(-3);
            if (s_cameras.All(c => tap.CountSince(c, quietSince) == 0))
            {
                return;
            }
            Assert.True(DateTime.UtcNow < deadline, "the producers kept sending with no viewer on any hub");
            await Task.Delay(500);
        }
    }

    /// <summary>Reads until a part is a frame the bus carried after <paramref name="since"/>, byte for byte.</summary>
    private static async Task ReadUntilLiveAsync(BusTap tap, MjpegClient viewer, string camera, DateTime since, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        while (true)
        {
            var part = await viewer.ReadPartAsync(timeout.Token);
            // The tap may store the frame a moment after the hub served it.
            for (var i = 0; i < 20 && !tap.Frames[camera].ContainsKey(part.Headers["X-Timestamp"]); i++)
            {
                await Task.Delay(50);
            }
            if (tap.Frames[camera].TryGetValue(part.Headers["X-Timestamp"], out var frame) && frame.ReceivedUtc >= since)
            {
                Assert.True(frame.Jpeg.AsSpan().SequenceEqual(part.Body));
                return;
            }
        }
    }
}
