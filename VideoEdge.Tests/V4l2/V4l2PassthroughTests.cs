using OpenCvSharp;
using VideoEdge.Imaging;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.V4l2;

/// <summary>
/// An MJPEG camera (the fake UVC camera, preloaded into the real app) is passed through byte for
/// byte: what a client receives is the file the camera served, with no decode and no encode.
/// </summary>
public sealed class V4l2PassthroughTests(V4l2Fixture fx) : IClassFixture<V4l2Fixture>
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task ClientsReceiveTheCamerasJpegsByteForByte_WithDriverTimestamps_AndNoEncodeOrDecode()
    {
        await using var server = await V4l2App.StartAsync(fx.Camera, []);
        using var cts = new CancellationTokenSource(ReadTimeout);
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);

        var seen = new HashSet<int>();
        double? previousTimestamp = null;
        for (var i = 0; i < 20; i++)
        {
            var part = await client.ReadPartAsync(cts.Token);
            var index = fx.IndexOf(part.Body);
            Assert.True(index >= 0, $"frame {i} ({part.Body.Length} bytes) is not one of the served files");
            seen.Add(index);
            // The driver's CLOCK_MONOTONIC timestamp, converted to wall-clock time.
            var age = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds - part.Timestamp;
            Assert.InRange(age, -0.5, 2.0);
            if (previousTimestamp is { } previous)
            {
                Assert.True(part.Timestamp > previous, "timestamps must increase");
            }
            previousTimestamp = part.Timestamp;
        }
        Assert.Equal(4, seen.Count);

        var state = await V4l2App.StateAsync(server);
        var source = state.GetProperty("source");
        Assert.Equal("v4l2", source.GetProperty("kind").GetString());
        Assert.Equal(V4l2Fixture.Width, source.GetProperty("width").GetInt32());
        Assert.Equal(V4l2Fixture.Height, source.GetProperty("height").GetInt32());
        Assert.InRange(state.Frames("passthrough"), 20, long.MaxValue);
        Assert.Equal(0, state.Frames("encoded"));
        Assert.Equal(0, state.Frames("decoded"));
        Assert.Equal(0, state.Frames("dropped"));
        Assert.Contains("granted MJPG 640x480 at 30 fps", server.Output);
    }

    [Fact]
    public async Task ANumberSourceIsThatVideoDevice_ThroughOurOwnV4l2Capture()
    {
        // --source 7 means /dev/video7 (it once meant OpenCV's camera index 7, through OpenCV's own V4L2 backend).
        var camera = fx.Camera with { DevicePath = "/dev/video7" };
        await using var server = await ProcessServer.StartAsync(["--source", "7"], new Dictionary<string, string>(camera.Environment()));
        using var cts = new CancellationTokenSource(ReadTimeout);
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);
        for (var i = 0; i < 5; i++)
        {
            var part = await client.ReadPartAsync(cts.Token);
            Assert.True(fx.IndexOf(part.Body) >= 0, $"frame {i} ({part.Body.Length} bytes) is not one of the served files");
        }

        var state = await V4l2App.StateAsync(server);
        Assert.Equal("v4l2", state.GetProperty("source").GetProperty("kind").GetString());
        Assert.Equal(0, state.Frames("decoded"));
        Assert.Contains("/dev/video7", server.Output);
    }

    [Fact]
    public async Task FramesWithoutHuffmanTables_GetTheStandardTablesAndDecodeToTheOriginalPixels()
    {
        await using var server = await V4l2App.StartAsync(fx.Camera.WithJpegs(fx.NoDhtFiles), []);
        using var cts = new CancellationTokenSource(ReadTimeout);
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);

        var checkedIndexes = new HashSet<int>();
        for (var i = 0; i < 12; i++)
        {
            var body = (await client.ReadPartAsync(cts.Token)).Body;
            var index = fx.NoDhtBytes.ToList().FindIndex(n => body.AsSpan().SequenceEqual(WithStandardTables(n)));
            Assert.True(index >= 0, $"frame {i} is not a served file with exactly the standard tables inserted before its scan");
            if (checkedIndexes.Add(index))
            {
                AssertSamePixels(fx.Bytes[index], body);
            }
        }
        Assert.True(checkedIndexes.Count >= 3);

        var state = await V4l2App.StateAsync(server);
        Assert.Equal(0, state.Frames("encoded"));
        Assert.Equal(0, state.Frames("decoded"));
    }

    [Fact]
    public async Task WithoutOpenCv_AnMjpegCameraStreamsFully_AndTheNativeLibraryIsNeverLoaded()
    {
        await using var server = await V4l2App.StartAsync(fx.Camera, [],
            new Dictionary<string, string> { ["VIDEOEDGE_NO_OPENCV"] = "1" });
        using var cts = new CancellationTokenSource(ReadTimeout);
        await using (var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token))
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.True(fx.IndexOf((await client.ReadPartAsync(cts.Token)).Body) >= 0);
            }
        }
        using var http = new HttpClient();
        var snapshot = await http.GetByteArrayAsync(server.BaseUrl + "/snapshot.jpg", cts.Token);
        Assert.True(fx.IndexOf(snapshot) >= 0);

        var maps = await File.ReadAllTextAsync($"/proc/{server.Process.Id}/maps", cts.Token);
        Assert.DoesNotContain(OpenCvRuntime.NativeLibraryFile, maps);
        Assert.Contains("libfakecam", maps);
        var state = await V4l2App.StateAsync(server);
        Assert.True(state.GetProperty("source").GetProperty("online").GetBoolean());
        Assert.Equal(0, state.Frames("encoded"));
    }

    [Fact]
    public async Task DropSameFrames_SkipsRepeatsOfAStillPicture_ButNotMoreThanNInARow()
    {
        await using var server = await V4l2App.StartAsync(fx.Camera.WithJpegs([fx.Files[0]]), ["--drop-same-frames", "4"]);
        var state = await V4l2App.WaitForStateAsync(server, s => s.Frames("captured") >= 40, 15, "40 captured frames");
        var captured = state.Frames("captured");
        var published = state.Frames("published");
        // One published, then four skipped, and so on.
        Assert.InRange(published, captured / 5 - 2, captured / 5 + 2);
    }

    /// <summary>The expected fix-up, computed independently of the code under test: DHT spliced in before SOS.</summary>
    private static byte[] WithStandardTables(byte[] jpeg)
    {
        var pos = 2;
        while (jpeg[pos + 1] != 0xDA)
        {
            pos += 2 + (jpeg[pos + 2] << 8 | jpeg[pos + 3]);
        }
        return [.. jpeg.AsSpan(0, pos), .. JpegDht.StandardTables, .. jpeg.AsSpan(pos)];
    }

    private static void AssertSamePixels(byte[] expectedJpeg, byte[] actualJpeg)
    {
        using var expected = Cv2.ImDecode(expectedJpeg, ImreadModes.Color);
        using var actual = Cv2.ImDecode(actualJpeg, ImreadModes.Color);
        Assert.False(actual.Empty(), "the received frame does not decode");
        using var diff = new Mat();
        Cv2.Absdiff(expected, actual, diff);
        Assert.Equal(0, Cv2.CountNonZero(diff.Reshape(1)));
    }
}
