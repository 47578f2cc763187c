using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.V4l2;

/// <summary>GET/PUT /api/camera/controls against the fake camera, and video-edge --list-devices.</summary>
public sealed class CameraControlsTests(V4l2Fixture fx) : IClassFixture<V4l2Fixture>
{
    private static JsonElement Control(JsonElement list, string name) =>
        list.GetProperty("controls").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task ControlsAreListed_Set_AndOutOfRangeValuesAreRefusedWithTheAllowedRange()
    {
        await using var server = await V4l2App.StartAsync(fx.Camera, ["--camera", "side=test"]);
        using var http = new HttpClient { BaseAddress = new Uri(server.BaseUrl), Timeout = TimeSpan.FromSeconds(10) };

        var list = await http.GetFromJsonAsync<JsonElement>("/api/camera/controls");
        Assert.Equal("/dev/video0", list.GetProperty("device").GetString());
        var brightness = Control(list, "brightness");
        Assert.Equal("Brightness", brightness.GetProperty("label").GetString());
        Assert.Equal("int", brightness.GetProperty("type").GetString());
        Assert.Equal(-64, brightness.GetProperty("minimum").GetInt32());
        Assert.Equal(64, brightness.GetProperty("maximum").GetInt32());
        Assert.Equal(0, brightness.GetProperty("default").GetInt32());
        Assert.Equal(0, brightness.GetProperty("value").GetInt32());
        var powerLine = Control(list, "power_line_frequency");
        Assert.Equal("menu", powerLine.GetProperty("type").GetString());
        Assert.Equal(["Disabled", "50 Hz", "60 Hz"], powerLine.GetProperty("menu").EnumerateArray().Select(m => m.GetProperty("name").GetString()));
        Assert.Contains(list.GetProperty("controls").EnumerateArray(), c => c.GetProperty("name").GetString() == "exposure_time_absolute");

        using (var set = await http.PutAsync("/api/camera/controls/brightness", Body("""{"value": 10}""")))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
            Assert.Equal(10, (await set.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").GetInt32());
        }
        Assert.Equal(10, Control(await http.GetFromJsonAsync<JsonElement>("/cams/main/controls"), "brightness").GetProperty("value").GetInt32());

        using (var tooBright = await http.PutAsync("/cams/main/controls/brightness", Body("""{"value": 1000}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, tooBright.StatusCode);
            Assert.Equal("application/problem+json", tooBright.Content.Headers.ContentType?.MediaType);
            var detail = (await tooBright.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();
            Assert.Contains("-64 to 64", detail);
        }
        using (var badMenu = await http.PutAsync("/api/camera/controls/auto_exposure", Body("""{"value": 0}""")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badMenu.StatusCode);
            Assert.Contains("1 (Manual Mode), 3 (Aperture Priority Mode)", await badMenu.Content.ReadAsStringAsync());
        }
        using (var notJson = await http.PutAsync("/api/camera/controls/brightness", Body("bright please")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        }
        using (var unknown = await http.PutAsync("/api/camera/controls/zoom", Body("""{"value": 1}""")))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        }
        Assert.Equal(10, Control(await http.GetFromJsonAsync<JsonElement>("/api/camera/controls"), "brightness").GetProperty("value").GetInt32());

        using var notV4l2 = await http.GetAsync("/cams/side/controls");
        Assert.Equal(HttpStatusCode.NotFound, notV4l2.StatusCode);
        Assert.Contains("only for V4L2 cameras", await notV4l2.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ListDevices_DescribesTheCameraItsFormatsSizesRatesAndControls()
    {
        var camera = new FakeCameraOptions { DevicePath = "/dev/video-fake7", Card = "Bench Cam", Fps = [30, 15] }.WithJpegs(fx.Files);
        var (code, output) = await ProcessServer.RunAsync(["--list-devices", "--device", camera.DevicePath],
            new Dictionary<string, string>(camera.Environment()));
        Assert.True(code == 0, output);
        Assert.Contains("/dev/video-fake7: Bench Cam (driver uvcvideo, bus usb-fake-1)", output);
        Assert.Contains("  Inputs: Camera 1", output);
        Assert.Contains("  MJPG (Motion-JPEG, compressed", output);
        Assert.Contains("  YUYV (YUYV 4:2:2)", output);
        Assert.Contains("    640x480: 30, 15 fps", output);
        Assert.Contains("    1280x720: 30, 15 fps", output);
        Assert.Contains("    brightness (int): -64 to 64; default 0, now 0", output);
        Assert.Contains("    power_line_frequency (menu): 0=Disabled, 1=50 Hz, 2=60 Hz; default 1, now 1", output);

        var (missingCode, missing) = await ProcessServer.RunAsync(["--list-devices", "--source", "/dev/video-fake-missing"]);
        Assert.Contains("/dev/video-fake-missing: cannot open: No such file or directory", missing);
        if (!Directory.EnumerateFiles("/dev", "video*").Any())
        {
            Assert.Equal(1, missingCode);
        }
    }
}
