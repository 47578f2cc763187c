using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

/// <summary>The app as a user starts it: a real process, its exit codes, its messages, its signals.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData(new[] { "--bogus" }, "--bogus")]
    [InlineData(new[] { "--resolution", "0x-5" }, "--resolution")]
    [InlineData(new[] { "--quality", "101" }, "--quality")]
    [InlineData(new[] { "--fps", "zero" }, "--fps")]
    [InlineData(new[] { "--listen", "nowhere" }, "--listen")]
    [InlineData(new[] { "--source", "file:/no/such/clip.mp4" }, "--source")]
    [InlineData(new[] { "--source", "gopher://x" }, "--source")]
    [InlineData(new[] { "--camera", "Bad Name=test" }, "--camera")]
    [InlineData(new[] { "stray" }, "stray")]
    public async Task Invalid_settings_exit_2_with_one_clear_line(string[] args, string named)
    {
        var (code, output) = await ProcessServer.RunAsync(args);
        Assert.Equal(2, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("video-edge: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Invalid_environment_setting_exits_2_naming_the_variable()
    {
        var (code, output) = await ProcessServer.RunAsync([], new Dictionary<string, string> { ["VIDEOEDGE_QUALITY"] = "0" });
        Assert.Equal(2, code);
        Assert.Contains("VIDEOEDGE_QUALITY", output);
    }

    [Fact]
    public async Task A_port_in_use_exits_2()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, output) = await ProcessServer.RunAsync(["--source", "test", "--listen", $"127.0.0.1:{port}"]);
        Assert.Equal(2, code);
        Assert.Contains("--listen", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Help_lists_every_setting_with_default_and_variable()
    {
        var (code, output) = await ProcessServer.RunAsync(["--help"]);
        Assert.Equal(0, code);
        foreach (var spec in VideoEdge.Configuration.OptionsParser.Specs)
        {
            Assert.Contains(spec.Flag, output);
            Assert.Contains(spec.EnvironmentVariable, output);
        }
        Assert.Contains("default: 127.0.0.1:8080", output);
    }

    [Fact]
    public async Task Environment_variables_configure_the_server()
    {
        await using var server = await ProcessServer.StartAsync([], new Dictionary<string, string>
        {
            ["VIDEOEDGE_SOURCE"] = "test",
            ["VIDEOEDGE_RESOLUTION"] = "160x120",
            ["VIDEOEDGE_FPS"] = "5",
        });
        using var http = new HttpClient();
        var jpeg = await http.GetByteArrayAsync(server.BaseUrl + "/snapshot.jpg");
        Assert.Equal((160, 120), Jpeg.Decode(jpeg));
    }

    [Fact]
    public async Task Default_without_a_camera_is_the_test_pattern_and_says_so()
    {
        Assert.False(File.Exists("/dev/video0"), "this machine has a camera; the default would pick it");
        await using var server = await ProcessServer.StartAsync([]);
        Assert.Contains("test pattern", server.Output);
        using var http = new HttpClient();
        Assert.True(Jpeg.HasMarkers(await http.GetByteArrayAsync(server.BaseUrl + "/snapshot.jpg")));
    }

    [Fact]
    public async Task Sigterm_ends_streams_cleanly_and_exits_0_quickly()
    {
        await using var server = await ProcessServer.StartAsync(["--source", "test", "--fps", "15", "--resolution", "320x240"]);
        var viewers = new List<MjpegClient>();
        for (var i = 0; i < 5; i++)
        {
            var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg");
            await viewer.ReadPartAsync();
            viewers.Add(viewer);
        }
        var stopwatch = Stopwatch.StartNew();
        var code = await server.TerminateAsync(TimeSpan.FromSeconds(10));
        stopwatch.Stop();
        Assert.Equal(0, code);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(4), $"took {stopwatch.Elapsed.TotalSeconds:F1} s to exit (target 2 s)");
        foreach (var viewer in viewers)
        {
            // The stream ends (not hangs): reading runs into the end of the response.
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                while (true)
                {
                    await viewer.ReadPartAsync(timeout.Token);
                }
            });
            await viewer.DisposeAsync();
        }
    }

    [Fact]
    public async Task Ffprobe_reads_the_stream_at_the_configured_size()
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", "10", "--resolution", "400x300");
        var probe = new ProcessStartInfo("ffprobe", ["-v", "error", "-f", "mpjpeg", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", server.BaseUrl + "/stream.mjpg"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(probe)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.Equal("mjpeg,400,300", output.Trim());
    }
}
