using System.Globalization;
using System.Text.Json;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.MultiCamera;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Security;

/// <summary>
/// JPEGs whose frame header claims a huge picture, from peers (a producer, a relayed upstream),
/// while a transform would decode them: dropped and counted before the decoder allocates anything.
/// </summary>
public sealed class DecompressionBombTests(ITestOutputHelper output)
{
    private const string Token = "s3cret-ingest-token";

    [Fact]
    public async Task Pushed_frames_claiming_32000x32000_are_dropped_before_decoding_and_memory_stays_low()
    {
        // A process of its own, so its peak RSS is the server's alone (the bug costs 3 GB per frame).
        await using var server = await ProcessServer.StartAsync(
            ["--camera", "cam=remote", "--ingest-token", Token, "--resolution", "320x240", "--scale", "0.5"]);
        var hub = new Uri(server.BaseUrl);
        using var http = new HttpClient { BaseAddress = hub, Timeout = TimeSpan.FromSeconds(30) };
        await using var producer = await TestProducer.ConnectAsync(new Uri(server.BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal)), "cam", Token);
        await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/cam/stream.mjpg");
        var honest = MjpegStreams.Jpegs(2)[0];
        var bomb = ClaimingSize(honest, 32000, 32000);
        Assert.InRange(bomb.Length, 100, 50_000);

        // One at a time: the feed keeps only the newest pushed frame, as it does for honest ones.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        var dropped = 0L;
        for (var i = 1; i <= 3; i++)
        {
            await producer.SendAsync(bomb);
            while ((dropped = (await FramesAsync(http)).GetProperty("dropped").GetInt64()) < i)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {dropped} frames dropped in 30 s");
                await Task.Delay(100);
            }
        }

        // Honest frames still flow, transformed (96x64 at --scale 0.5).
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var sent = Task.Run(async () =>
        {
            while (!timeout.IsCancellationRequested)
            {
                await producer.SendAsync(honest);
                await Task.Delay(100);
            }
        });
        (int, int) size;
        do
        {
            size = Jpeg.Decode((await viewer.ReadPartAsync(timeout.Token)).Body);
        }
        while (size != (48, 32));
        await timeout.CancelAsync();
        await sent;

        var peak = PeakRssBytes(server.Process.Id);
        output.WriteLine($"dropped {dropped}, server peak RSS {peak / 1e6:0} MB");
        Assert.True(peak < 1_000_000_000, $"the server's peak RSS reached {peak / 1e6:0} MB");
        Assert.Equal(1, CountOccurrences(server.Output, "before decoding it: over --max-frame-pixels 16777216"));
    }

    [Fact]
    public async Task Relayed_frames_over_max_frame_pixels_are_dropped_and_honest_ones_transformed()
    {
        var jpegs = MjpegStreams.Jpegs(3);
        var bomb = ClaimingSize(jpegs[1], 1000, 1000);
        await using var upstream = new RecordedStreamServer(MjpegStreams.UStreamer([jpegs[0], bomb, jpegs[2]]));
        await using var server = await EdgeTestServer.StartAsync("--camera", "cam=mjpeg+" + upstream.Url, "--scale", "0.5", "--max-frame-pixels", "200x200");
        await using var viewer = await MjpegClient.ConnectAsync(server.BaseUrl + "/cams/cam/stream.mjpg");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var transformed = 0;
        while (transformed < 6)
        {
            var size = Jpeg.Decode((await viewer.ReadPartAsync(timeout.Token)).Body);
            // The no-signal picture (640x480) may come first while the relay connects; a decoded bomb
            // would come out as 500x500.
            Assert.NotEqual((500, 500), size);
            transformed += size == (48, 32) ? 1 : 0;
        }
        var stats = server.Camera.Stats;
        Assert.True(stats.Dropped >= 2, $"dropped {stats.Dropped}");
        Assert.InRange(stats.Decoded, transformed, 2 * stats.Dropped + 2);
    }

    [Theory]
    [InlineData("1920x1080", 1920L * 1080)]
    [InlineData("500000", 500_000L)]
    [InlineData("auto", 4096L * 4096)]
    public void Max_frame_pixels_reads_a_size_or_a_count(string value, long expected)
    {
        var (options, error) = VideoEdge.Configuration.OptionsParser.Parse(["--max-frame-pixels", value], _ => null);
        Assert.Null(error);
        Assert.Equal(expected, options!.MaxFramePixels);
        Assert.NotNull(VideoEdge.Configuration.OptionsParser.Parse(["--max-frame-pixels", "0x5"], _ => null).Error);
    }

    /// <summary>The same JPEG with its frame header (SOF) claiming another size: what a decoder would allocate for.</summary>
    internal static byte[] ClaimingSize(byte[] jpeg, int width, int height)
    {
        var copy = (byte[])jpeg.Clone();
        var i = 2;
        while (copy[i + 1] is not (>= 0xC0 and <= 0xC3))
        {
            i += 2 + (copy[i + 2] << 8 | copy[i + 3]);
        }
        copy[i + 5] = (byte)(height >> 8);
        copy[i + 6] = (byte)height;
        copy[i + 7] = (byte)(width >> 8);
        copy[i + 8] = (byte)width;
        return copy;
    }

    private static async Task<JsonElement> FramesAsync(HttpClient http)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync("/cams/cam/state"));
        return doc.RootElement.GetProperty("frames").Clone();
    }

    /// <summary>VmHWM: the most resident memory the process ever had.</summary>
    private static long PeakRssBytes(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    private static int CountOccurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
