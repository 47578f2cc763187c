using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>More idle connections than the process has file descriptors: no spinning, one log line, service resumes.</summary>
[Collection(TimingSensitive.Name)]
public sealed class FileLimitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task At_the_file_limit_connections_are_closed_on_accept_without_spinning_and_logged_once()
    {
        // `ulimit -n` in bash sets the soft and the hard limit, so the server cannot raise it.
        await using var server = await ProcessServer.StartAsync(
            ["-c", "ulimit -n 1024 && exec dotnet \"$0\" \"$@\"", ProcessServer.AppDll, "--source", "test", "--resolution", "320x240", "--fps", "5", "--max-clients-per-ip", "0"],
            executable: "bash");
        var uri = new Uri(server.BaseUrl);
        using var http = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(30) };
        using (var first = await http.GetAsync("/snapshot.jpg"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < 1100; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                idle.Add(socket);
                using var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await socket.ConnectAsync(IPAddress.Loopback, uri.Port, connecting.Token);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException)
                {
                    // The listen backlog may be full: that connection is simply not made.
                }
            }
            await Task.Delay(1000);
            AssertRunning(server);
            var cpuBefore = CpuSeconds(server.Process.Id);
            var clock = Stopwatch.StartNew();
            // While the idle connections are held a new one is closed at once rather than left waiting.
            using (var quick = new HttpClient { BaseAddress = uri, Timeout = TimeSpan.FromSeconds(10) })
            {
                try
                {
                    using var _ = await quick.GetAsync("/snapshot.jpg");
                }
                // The server closes it right after accept; SocketsHttpHandler may then fail reading the
                // peer's address and throw a bare SocketException rather than an HttpRequestException.
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
                {
                }
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"a snapshot attempt at the limit took {clock.Elapsed.TotalSeconds:0.0} s");
            await Task.Delay(TimeSpan.FromSeconds(6) - clock.Elapsed);
            AssertRunning(server);
            var cpu = CpuSeconds(server.Process.Id) - cpuBefore;
            output.WriteLine($"server CPU {cpu:0.00} s in {clock.Elapsed.TotalSeconds:0.0} s while {idle.Count} idle connections were held");
            // A spinning accept loop costs a whole core (6 s here); the test pattern at 5 fps a few percent.
            Assert.True(cpu < 2.5, $"the server used {cpu:0.00} s of CPU in 6 s");
        }
        finally
        {
            foreach (var socket in idle)
            {
                socket.Dispose();
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var snapshot = await http.GetAsync("/snapshot.jpg");
                Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);
                break;
            }
            catch (Exception ex) when ((ex is HttpRequestException or SocketException) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
        var lines = server.Output.Split('\n').Where(l => l.Contains("Closed a new connection at once", StringComparison.Ordinal)).ToList();
        output.WriteLine(string.Join("\n", lines));
        Assert.Single(lines);
    }

    [Fact]
    public async Task The_soft_file_limit_is_raised_to_the_hard_one_and_a_max_clients_beyond_it_is_warned_about()
    {
        await using (var raised = await ProcessServer.StartAsync(
            ["-c", "ulimit -Sn 300 && ulimit -Hn 4096 && exec dotnet \"$0\" \"$@\"", ProcessServer.AppDll, "--source", "test"], executable: "bash"))
        {
            var line = File.ReadLines($"/proc/{raised.Process.Id}/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            Assert.Equal(["4096", "4096"], line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3..5]);
            Assert.DoesNotContain("--max-clients", raised.Output);
        }
        await using var capped = await ProcessServer.StartAsync(
            ["-c", "ulimit -n 1024 && exec dotnet \"$0\" \"$@\"", ProcessServer.AppDll, "--source", "test", "--max-clients", "5000"], executable: "bash");
        Assert.Contains("--max-clients 5000 is more than the file limit allows", capped.Output);
    }

    private static void AssertRunning(ProcessServer server)
    {
        if (server.Process.HasExited)
        {
            var output = server.Output;
            Assert.Fail($"the server exited ({server.Process.ExitCode}) while the connections were held; its last output:\n{output[Math.Max(0, output.Length - 4000)..]}");
        }
    }

    /// <summary>utime + stime of the process, from /proc/PID/stat (in clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
