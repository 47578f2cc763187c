using System.Text.Json;
using OpenCvSharp;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>--rotate, --flip, --scale and --overlay: the frames viewers get, measured pixel by pixel.</summary>
public sealed class TransformTests
{
    private const string Token = "s3cret-ingest-token";

    // Quadrant colours of the test picture (BGR): top left red, top right green, bottom left blue, bottom right white.
    private static readonly Vec3b Red = new(0, 0, 255);
    private static readonly Vec3b Green = new(0, 255, 0);
    private static readonly Vec3b Blue = new(255, 0, 0);
    private static readonly Vec3b White = new(255, 255, 255);

    public static TheoryData<string, int, int, string> Geometry() => new()
    {
        { "--rotate 90", 240, 320, "blue red white green" },
        { "--rotate 180", 320, 240, "white blue green red" },
        { "--rotate 270", 240, 320, "green white red blue" },
        { "--flip h", 320, 240, "green red white blue" },
        { "--flip v", 320, 240, "blue white red green" },
        { "--flip hv", 320, 240, "white blue green red" },
        { "--scale 0.5", 160, 120, "red green blue white" },
        { "--rotate 90 --scale 0.5", 120, 160, "blue red white green" },
    };

    [Theory]
    [MemberData(nameof(Geometry))]
    public async Task Rotate_flip_and_scale_give_the_expected_size_and_picture(string flags, int width, int height, string quadrants)
    {
        await using var hub = await StartHubAsync(flags.Split(' '));
        var output = await PushAndReceiveAsync(hub, Quadrants());
        using var image = Cv2.ImDecode(output, ImreadModes.Color);
        Assert.Equal((width, height), (image.Width, image.Height));
        var expected = quadrants.Split(' ').Select(Colour).ToArray();
        var samples = new[] { (1, 1), (3, 1), (1, 3), (3, 3) }.Select(q => image.At<Vec3b>(height * q.Item2 / 4, width * q.Item1 / 4)).ToArray();
        for (var i = 0; i < 4; i++)
        {
            AssertNear(expected[i], samples[i], $"quadrant {i} after {flags}");
        }

        var camera = await RelayTests.CameraAsync(hub, "cam");
        Assert.Equal(width, camera.GetProperty("width").GetInt32());
        Assert.Equal(height, camera.GetProperty("height").GetInt32());
        // Each transformed frame cost one decode and one encode, and /api/state says so.
        using var state = JsonDocument.Parse(await hub.Http.GetStringAsync("/cams/cam/state"));
        var frames = state.RootElement.GetProperty("frames");
        Assert.Equal(1, frames.GetProperty("decoded").GetInt64());
        Assert.Equal(1, frames.GetProperty("encoded").GetInt64());
    }

    [Theory]
    [InlineData(255, true)]
    [InlineData(0, false)]
    [InlineData(200, true)]
    [InlineData(60, false)]
    public async Task The_overlay_is_drawn_in_a_colour_that_stands_out_from_the_picture(byte background, bool darkText)
    {
        await using var hub = await StartHubAsync("--overlay", "{name} {utc}");
        using var plain = new Mat(240, 320, MatType.CV_8UC3, Scalar.All(background));
        var output = await PushAndReceiveAsync(hub, plain.ImEncode(".jpg"));
        using var image = Cv2.ImDecode(output, ImreadModes.Color);
        Assert.Equal((320, 240), (image.Width, image.Height));

        using var gray = image.CvtColor(ColorConversionCodes.BGR2GRAY);
        using var band = new Mat(gray, new Rect(0, 0, 320, 40));
        using var rest = new Mat(gray, new Rect(0, 60, 320, 180));
        band.MinMaxLoc(out double darkest, out double brightest);
        // The text is there, in the colour farthest from the picture behind it, and only in that one
        // (JPEG ringing at the letters' edges overshoots the background by a little, never by 40).
        if (darkText)
        {
            Assert.True(darkest < 60, $"darkest pixel of the text band on {background}: {darkest}");
            Assert.True(brightest < background + 40, $"brightest pixel of the text band on {background}: {brightest}");
        }
        else
        {
            Assert.True(brightest > 195, $"brightest pixel of the text band on {background}: {brightest}");
            Assert.True(darkest > background - 40, $"darkest pixel of the text band on {background}: {darkest}");
        }
        // ...and nowhere else: below it the picture is untouched.
        rest.MinMaxLoc(out double restMin, out double restMax);
        Assert.InRange(restMin, background - 8, background + 8);
        Assert.InRange(restMax, background - 8, background + 8);
    }

    [Fact]
    public async Task The_overlay_names_the_camera_and_keeps_the_utc_time_current()
    {
        await using var hub = await StartHubAsync("--overlay", "{utc}");
        await using var named = await StartHubAsync("--overlay", "{name}");
        using var plain = new Mat(240, 320, MatType.CV_8UC3, Scalar.All(255));
        var jpeg = plain.ImEncode(".jpg");
        // {name} renders as the camera's name: the same pixels as the literal text "cam" would give.
        await using var literal = await StartHubAsync("--overlay", "cam");
        Assert.Equal(TextBand(await PushAndReceiveAsync(literal, jpeg)), TextBand(await PushAndReceiveAsync(named, jpeg)));

        await using var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        await producer.SendAsync(jpeg);
        var first = await viewer.ReadUntilAsync(f => !f.NoSignal, 10);
        await Task.Delay(1100);
        await producer.SendAsync(jpeg);
        var second = await viewer.ReadUntilAsync(f => !f.NoSignal && f.Sequence > first.Sequence, 10);
        Assert.NotEqual(TextBand(first.Jpeg), TextBand(second.Jpeg));
    }

    [Fact]
    public async Task A_passthrough_source_gets_its_decode_step_and_the_test_pattern_its_second_encode()
    {
        var jpegs = MjpegStreams.Jpegs(2);
        await using var upstream = new RecordedStreamServer(MjpegStreams.UStreamer(jpegs));
        await using var server = await EdgeTestServer.StartAsync(
            "--camera", "relay=mjpeg+" + upstream.Url, "--camera", "pattern=test", "--fps", "10", "--resolution", "320x240", "--scale", "0.5", "--overlay", "{name}");
        var (relay, pattern) = (server.Cameras.All[0], server.Cameras.All[1]);
        await server.WaitForFramesAsync(10, relay);
        await server.WaitForFramesAsync(10, pattern);

        using var relayed = await server.Http.GetAsync("/cams/relay/snapshot.jpg");
        var bytes = await relayed.Content.ReadAsByteArrayAsync();
        Assert.Equal((48, 32), Jpeg.Decode(bytes));
        Assert.DoesNotContain(HubTap.Hash(bytes), jpegs.Select(HubTap.Hash));
        Assert.True(relay.Stats.Decoded >= 10 && relay.Stats.Encoded >= 10);
        Assert.InRange(relay.Stats.Decoded, relay.Stats.Passthrough - 2, relay.Stats.Passthrough);

        using var patterned = await server.Http.GetAsync("/cams/pattern/snapshot.jpg");
        Assert.Equal((160, 120), Jpeg.Decode(await patterned.Content.ReadAsByteArrayAsync()));
        // The pattern is encoded once by its source and once more after the transform.
        Assert.InRange(pattern.Stats.Encoded, 2 * pattern.Stats.Decoded - 2, 2 * pattern.Stats.Decoded + 2);
    }

    [Theory]
    [InlineData("--rotate", "45")]
    [InlineData("--rotate", "360")]
    [InlineData("--flip", "x")]
    [InlineData("--scale", "0")]
    [InlineData("--scale", "3")]
    [InlineData("--overlay", "")]
    public async Task Bad_transform_settings_exit_with_code_2(string flag, string value)
    {
        var (code, output) = await ProcessServer.RunAsync(["--source", "test", flag, value]);
        Assert.Equal(2, code);
        Assert.Contains(flag, output);
    }

    private static Task<EdgeTestServer> StartHubAsync(params string[] flags) =>
        EdgeTestServer.StartAsync(["--camera", "cam=remote", "--ingest-token", Token, "--resolution", "320x240", .. flags]);

    /// <summary>Pushes one JPEG to camera "cam" and returns the first frame a viewer gets that is not no-signal.</summary>
    private static async Task<byte[]> PushAndReceiveAsync(EdgeTestServer hub, byte[] jpeg)
    {
        await using var viewer = await MetaViewer.ConnectAsync(hub.WebSocketBase, "cam");
        await using var producer = await TestProducer.ConnectAsync(hub.WebSocketBase, "cam", Token);
        // The viewer's WebSocket is open before the server has registered it: "pause" may come first.
        var control = await producer.NextControlAsync(5);
        if (control == "pause")
        {
            control = await producer.NextControlAsync(5);
        }
        Assert.Equal("resume", control);
        await producer.SendAsync(jpeg);
        return (await viewer.ReadUntilAsync(f => !f.NoSignal, 10)).Jpeg;
    }

    private static byte[] Quadrants()
    {
        using var image = new Mat(240, 320, MatType.CV_8UC3);
        image[new Rect(0, 0, 160, 120)].SetTo(new Scalar(0, 0, 255));
        image[new Rect(160, 0, 160, 120)].SetTo(new Scalar(0, 255, 0));
        image[new Rect(0, 120, 160, 120)].SetTo(new Scalar(255, 0, 0));
        image[new Rect(160, 120, 160, 120)].SetTo(new Scalar(255, 255, 255));
        return image.ImEncode(".jpg", new ImageEncodingParam(ImwriteFlags.JpegQuality, 95));
    }

    private static Vec3b Colour(string name) => name switch { "red" => Red, "green" => Green, "blue" => Blue, _ => White };

    private static void AssertNear(Vec3b expected, Vec3b actual, string what)
    {
        for (var c = 0; c < 3; c++)
        {
            Assert.True(Math.Abs(expected[c] - actual[c]) < 40, $"{what}: expected {expected.Item0},{expected.Item1},{expected.Item2} got {actual.Item0},{actual.Item1},{actual.Item2}");
        }
    }

    /// <summary>The decoded top band, where the overlay is drawn.</summary>
    private static byte[] TextBand(byte[] jpeg)
    {
        using var image = Cv2.ImDecode(jpeg, ImreadModes.Grayscale);
        using var band = new Mat(image, new Rect(0, 0, image.Width, 40)).Clone();
        band.GetArray(out byte[] pixels);
        return pixels;
    }
}
