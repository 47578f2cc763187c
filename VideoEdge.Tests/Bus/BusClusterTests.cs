using System.Globalization;
using System.Text.Json;
using NATS.Client.Core;
using VideoEdge.Tests.Deployment;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.MultiCamera;

namespace VideoEdge.Tests.Bus;

/// <summary>
/// The three-server NATS cluster of docs/scaling-out.md, run as written (only hosts and ports made
/// loopback ones): a producer on one server, a hub given the other two, and the hub's server killed
/// under it: the hub moves to a live server by itself and its viewer gets frames again.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class BusClusterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("bus-cluster-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_guides_cluster_carries_frames_and_a_hub_whose_server_dies_continues_on_another()
    {
        var guide = GuideClusterConfig();
        var names = new[] { "a", "b", "c" };
        var clientPorts = names.Select(_ => ChildProcess.FreePort()).ToArray();
        var routePorts = names.Select(_ => ChildProcess.FreePort()).ToArray();
        var nodes = new List<(ChildProcess Server, int Monitor)>();
        try
        {
            for (var i = 0; i < names.Length; i++)
            {
                var path = Path.Combine(_dir, $"bus-{names[i]}.conf");
                await File.WriteAllTextAsync(path, NodeConfig(guide, i, clientPorts, routePorts));
                // Monitoring (not part of the guide) only tells the test which server the hub is on.
                var monitor = ChildProcess.FreePort();
                nodes.Add((await ChildProcess.StartAsync("nats-server", ["-c", path, "-m", monitor.ToString(CultureInfo.InvariantCulture)], clientPorts[i]), monitor));
            }
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            await ChainTests.WaitUntilAsync(() => nodes.All(n => Monitor(http, n.Monitor, "routez", "num_routes") == 2), "every server routes to the other two", 60);

            // The guide's token, in a file as the hubs and producers take it.
            var token = Path.Combine(_dir, "bus-token");
            await File.WriteAllTextAsync(token, "a long random secret\n");
            var url = clientPorts.Select(p => $"nats://127.0.0.1:{p}").ToArray();
            await using var tap = await BusTap.StartAsync(new NatsOpts { Url = url[0], AuthOpts = new NatsAuthOpts { Token = "a long random secret" } }, "shed");
            await using var push = await ProcessServer.LaunchAsync(["push", "--source", "test", "--fps", "10", "--resolution", "160x120",
                "--to", url[0] + "/shed", "--bus-token-file", token]);
            // The hub is given B and C (the client picks one of them at random); A stays the producer's.
            await using var hub = await EdgeTestServer.StartAsync("--camera", "shed=bus", "--bus", $"{url[1]},{url[2]}", "--bus-token-file", token,
                "--bus-frame-timeout", "10");
            await using var viewer = await MjpegClient.ConnectAsync(hub.BaseUrl + "/cams/shed/stream.mjpg");
            await BusLoginTests.ReadFramesFromBusAsync(tap, viewer, "shed", 5, TimeSpan.FromSeconds(60));

            // Frames crossed a route: the hub is on B or C, the producer on A.
            var hubNode = Enumerable.Range(1, 2).Single(i => Monitor(http, nodes[i].Monitor, "connz", "num_connections") == 1);
            await nodes[hubNode].Server.KillAsync();
            var killed = DateTime.UtcNow;

            // The NATS client reconnects to a live server by itself (the other URL, or one the cluster
            // told it of; it may be so quick that no no-signal picture is shown): frames resume...
            await ReadFramesSinceAsync(tap, viewer, killed, 5, TimeSpan.FromSeconds(60));
            // ...and the two live servers hold all three clients: producer, tap and the hub.
            await ChainTests.WaitUntilAsync(() => Enumerable.Range(0, 3).Where(i => i != hubNode).Sum(i => Monitor(http, nodes[i].Monitor, "connz", "num_connections")) == 3,
                "the hub's connection moved to a live server", 30);
            Assert.DoesNotContain("refused", push.Output);
        }
        finally
        {
            foreach (var (server, _) in nodes)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>The cluster configuration docs/scaling-out.md shows, verbatim.</summary>
    private static string GuideClusterConfig()
    {
        var guide = File.ReadAllText(Path.Combine(PublishedBuild.RepositoryRoot, "docs", "scaling-out.md"));
        var start = guide.IndexOf("# /etc/nats/videoedge.conf on bus-a", StringComparison.Ordinal);
        Assert.True(start >= 0, "docs/scaling-out.md has no cluster configuration for bus-a");
        var end = guide.IndexOf("```", start, StringComparison.Ordinal);
        return guide[start..end];
    }

    /// <summary>Server <paramref name="i"/>'s file: the guide's, with its name and the others' routes, on loopback ports.</summary>
    private static string NodeConfig(string guide, int i, int[] clientPorts, int[] routePorts)
    {
        var others = Enumerable.Range(0, 3).Where(j => j != i).ToArray();
        string[] names = ["a", "b", "c"];
        var config = guide;
        foreach (var (from, to) in new[]
                 {
                     // Placeholders first, so a replaced value is never replaced again.
                     ("nats-route://bus-b.lan:6222", "ROUTE1"),
                     ("nats-route://bus-c.lan:6222", "ROUTE2"),
                     ("server_name: bus-a", $"server_name: bus-{names[i]}"),
                     ("listen: 0.0.0.0:4222", $"listen: 127.0.0.1:{clientPorts[i]}"),
                     ("listen: 0.0.0.0:6222", $"listen: 127.0.0.1:{routePorts[i]}"),
                     ("ROUTE1", $"nats-route://127.0.0.1:{routePorts[others[0]]}"),
                     ("ROUTE2", $"nats-route://127.0.0.1:{routePorts[others[1]]}"),
                 })
        {
            Assert.True(config.Contains(from, StringComparison.Ordinal), $"the guide's cluster configuration lost '{from}'");
            config = config.Replace(from, to, StringComparison.Ordinal);
        }
        return config;
    }

    /// <summary>A number from a server's monitoring endpoint (-1 while it does not answer).</summary>
    private static int Monitor(HttpClient http, int port, string endpoint, string field)
    {
        try
        {
            using var json = JsonDocument.Parse(http.GetStringAsync($"http://127.0.0.1:{port}/{endpoint}").GetAwaiter().GetResult());
            return json.RootElement.GetProperty(field).GetInt32();
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return -1;
        }
    }

    /// <summary>Reads until <paramref name="count"/> parts were frames the bus carried after <paramref name="since"/>, byte for byte.</summary>
    private static async Task ReadFramesSinceAsync(BusTap tap, MjpegClient viewer, DateTime since, int count, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var matched = 0;
        while (matched < count)
        {
            var part = await viewer.ReadPartAsync(timeout.Token);
            var stamp = part.Headers["X-Timestamp"];
            for (var i = 0; i < 40 && !tap.Frames["shed"].ContainsKey(stamp); i++)
            {
                await Task.Delay(50);
            }
            if (tap.Frames["shed"].TryGetValue(stamp, out var frame) && frame.ReceivedUtc >= since)
            {
                Assert.True(frame.Jpeg.AsSpan().SequenceEqual(part.Body), $"frame {frame.Sequence} differs from the bus's bytes");
                matched++;
            }
        }
    }
}
