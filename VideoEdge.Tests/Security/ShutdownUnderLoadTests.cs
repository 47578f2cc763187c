using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>SIGTERM (what systemd sends) with 100 viewers attached: a clean, quick exit that ends every stream.</summary>
[Collection(TimingSensitive.Name)]
public sealed class ShutdownUnderLoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SIGTERM_with_100_viewers_exits_0_quickly_and_ends_every_stream()
    {
        // The default limits, so 100 viewers come from ten addresses and --max-clients is raised.
        await using var server = await ProcessServer.StartAsync(["--source", "test", "--fps", "15", "--resolution", "320x240", "--max-clients", "128"]);
        var uri = new Uri(server.BaseUrl);
        var viewers = await Task.WhenAll(Enumerable.Range(0, 100).Select(i =>
            StreamingViewer.OpenAsync(uri, IPAddress.Parse("127.0.0." + (150 + i / 10)), webSocket: i % 2 == 1)));
        try
        {
            Assert.All(viewers, v => Assert.True(v.Head.Status is 200 or 101, "status " + v.Head.Status));
            // Every viewer is receiving.
            await Task.Delay(1000);
            Assert.All(viewers, v => Assert.True(v.Bytes > 0, "a viewer received nothing after its first frame"));

            var clock = Stopwatch.StartNew();
            var exitCode = await server.TerminateAsync(TimeSpan.FromSeconds(10));
            var took = clock.Elapsed;
            output.WriteLine($"SIGTERM with 100 viewers: exit code {exitCode} after {took.TotalMilliseconds:0} ms");
            Assert.Equal(0, exitCode);
            Assert.True(took < TimeSpan.FromSeconds(5), $"the exit took {took.TotalSeconds:0.0} s (systemd's stop budget is what the unit allows; ours is 2 s)");

            // Every stream was ended, and nothing listens any more.
            foreach (var viewer in viewers)
            {
                Assert.True(await viewer.WaitForServerCloseAsync(TimeSpan.FromSeconds(2)), "a viewer's stream was left open");
            }
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await Assert.ThrowsAsync<SocketException>(() => probe.ConnectAsync(IPAddress.Loopback, uri.Port));
            Assert.True(server.Process.HasExited);
            Assert.DoesNotContain("Unhandled exception", server.Output);
        }
        finally
        {
            foreach (var viewer in viewers)
            {
                await viewer.DisposeAsync();
            }
        }
    }
}
