using System.Text.Json;
using VideoEdge.Configuration;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Core;

/// <summary>
/// Per-camera settings, the --config file, precedence (flag &gt; env &gt; file &gt; default) and
/// --print-config: from flags and from a real file, checked on the wire and on the command line.
/// </summary>
public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("videoedge-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The doorbell-and-printer setup: one global rate, two cameras each with its own size, rate and rotation.</summary>
    private static readonly string[] s_twoCameraFlags =
    [
        "--fps", "10",
        "--camera", "door=test,resolution=320x240,fps=4,rotate=90",
        "--camera", "printer=test,resolution=160x120,fps=20",
    ];

    private const string TwoCameraFile = """
        {
          // The doorbell and the printer, each at its own settings (comments and trailing commas are fine).
          "fps": 10,
          "cameras": {
            "door": { "source": "test", "resolution": "320x240", "fps": 4, "rotate": 180, "flip": "h" },
            "printer": { "source": "test", "resolution": "160x120", "fps": 20, },
          },
        }
        """;

    [Fact]
    public async Task Two_cameras_from_flags_each_run_at_their_own_size_rate_and_rotation()
    {
        await using var server = await EdgeTestServer.StartAsync(s_twoCameraFlags);
        await AssertDoorAndPrinterAsync(server.BaseUrl, doorSize: (240, 320), doorRotate: 90, doorFlip: "none");
    }

    [Fact]
    public async Task Two_cameras_from_a_file_each_run_at_their_own_size_rate_and_transform()
    {
        var path = WriteFile("two.json", TwoCameraFile);
        await using var server = await ProcessServer.StartAsync(["--config", path]);
        await AssertDoorAndPrinterAsync(server.BaseUrl, doorSize: (320, 240), doorRotate: 180, doorFlip: "h");
    }

    private static async Task AssertDoorAndPrinterAsync(string baseUrl, (int, int) doorSize, int doorRotate, string doorFlip)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(60) };
        Assert.Equal(doorSize, Jpeg.Decode(await http.GetByteArrayAsync("/cams/door/snapshot.jpg")));
        Assert.Equal((160, 120), Jpeg.Decode(await http.GetByteArrayAsync("/cams/printer/snapshot.jpg")));

        // Delivered rates, measured side by side over the same seconds: 4 fps against 20 fps (global: 10).
        var door = MeasureFpsAsync(baseUrl + "/cams/door/stream.mjpg", doorSize);
        var printer = MeasureFpsAsync(baseUrl + "/cams/printer/stream.mjpg", (160, 120));
        var (doorFps, printerFps) = (await door, await printer);
        Assert.InRange(doorFps, 1.5, 5.5);
        Assert.True(printerFps >= 9 && printerFps > 2 * doorFps, $"printer {printerFps:0.0} fps, door {doorFps:0.0} fps");

        using var cameras = JsonDocument.Parse(await http.GetStringAsync("/api/cameras"));
        var byName = cameras.RootElement.EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("settings"));
        Assert.Equal("320x240", byName["door"].GetProperty("resolution").GetString());
        Assert.Equal(4, byName["door"].GetProperty("fps").GetDouble());
        Assert.Equal(doorRotate, byName["door"].GetProperty("rotate").GetInt32());
        Assert.Equal(doorFlip, byName["door"].GetProperty("flip").GetString());
        Assert.Equal("160x120", byName["printer"].GetProperty("resolution").GetString());
        Assert.Equal(20, byName["printer"].GetProperty("fps").GetDouble());
        Assert.Equal(0, byName["printer"].GetProperty("rotate").GetInt32());
        // What the camera did not set itself it inherits from the global settings.
        Assert.Equal(80, byName["printer"].GetProperty("quality").GetInt32());

        using var state = JsonDocument.Parse(await http.GetStringAsync("/cams/door/state"));
        Assert.Equal(doorRotate, state.RootElement.GetProperty("settings").GetProperty("rotate").GetInt32());
        Assert.Equal(4, state.RootElement.GetProperty("source").GetProperty("configuredFps").GetDouble());
    }

    /// <summary>Frames per second a viewer receives over a few seconds, each checked to be a JPEG of the expected size.</summary>
    private static async Task<double> MeasureFpsAsync(string url, (int, int) size)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = await MjpegClient.ConnectAsync(url, timeout.Token);
        Assert.Equal(size, Jpeg.Decode((await client.ReadPartAsync(timeout.Token)).Body));
        var started = DateTime.UtcNow;
        var frames = 0;
        while (DateTime.UtcNow - started < TimeSpan.FromSeconds(5))
        {
            var part = await client.ReadPartAsync(timeout.Token);
            Assert.True(Jpeg.HasMarkers(part.Body));
            frames++;
        }
        return frames / (DateTime.UtcNow - started).TotalSeconds;
    }

    [Fact]
    public void Precedence_is_flag_then_environment_then_file_then_default()
    {
        var path = WriteFile("precedence.json", """{ "fps": 5, "quality": 50, "send-timeout": 20 }""");
        var env = new Dictionary<string, string> { ["VIDEOEDGE_CONFIG"] = path, ["VIDEOEDGE_FPS"] = "6", ["VIDEOEDGE_QUALITY"] = "60" };

        var (options, error) = OptionsParser.Parse(["--fps", "7"], name => env.GetValueOrDefault(name));
        Assert.True(options is not null, error);
        Assert.Equal(7, options!.Fps);                                        // flag over env and file
        Assert.Equal(60, options.Quality);                                    // env over file
        Assert.Equal(TimeSpan.FromSeconds(20), options.SendTimeout);          // file over default
        Assert.Equal(TimeSpan.FromSeconds(3), options.SnapshotTimeout);       // default

        // --config on the command line wins over VIDEOEDGE_CONFIG.
        var other = WriteFile("other.json", """{ "send-timeout": 30 }""");
        (options, error) = OptionsParser.Parse(["--config", other], name => env.GetValueOrDefault(name));
        Assert.True(options is not null, error);
        Assert.Equal(TimeSpan.FromSeconds(30), options!.SendTimeout);
        Assert.Equal(6, options.Fps);
    }

    [Fact]
    public void A_cameras_own_setting_wins_over_the_global_one_from_any_source()
    {
        var path = WriteFile("own.json", """{ "cameras": { "door": { "source": "test", "fps": 4 } } }""");
        var (options, error) = OptionsParser.Parse(["--config", path, "--fps", "12", "--camera", "yard=test,quality=30"], _ => null);
        Assert.True(options is not null, error);
        var cameras = options!.CameraConfigs.ToDictionary(c => c.Name);
        Assert.Equal(new[] { "door", "yard" }, options.CameraConfigs.Select(c => c.Name));
        Assert.Equal(4, cameras["door"].Settings.Fps);
        Assert.Equal(12, cameras["yard"].Settings.Fps);
        Assert.Equal(30, cameras["yard"].Settings.Quality);
        Assert.Equal(80, cameras["door"].Settings.Quality);
        Assert.Equal(12, options.Fps);
    }

    [Theory]
    // Only trailing pairs named after a per-camera setting are split off; the rest is the source, commas and all.
    [InlineData("door=test,resolution=1280x720,fps=15,rotate=180", "test", "resolution=1280x720 fps=15 rotate=180")]
    [InlineData("cam=http://host/mjpg?a=1,b=2", "http://host/mjpg?a=1,b=2", "")]
    [InlineData("cam=http://host/mjpg?a=1,b=2,fps=5", "http://host/mjpg?a=1,b=2", "fps=5")]
    [InlineData("cam=http://host/x?fps=5,a=1", "http://host/x?fps=5,a=1", "")]
    [InlineData("cam=test,listen=0.0.0.0:1", "test,listen=0.0.0.0:1", "")]
    public void Camera_settings_are_split_off_the_source_by_a_documented_rule(string flag, string source, string own)
    {
        var camera = CameraDefinition.Parse(flag, "flag --camera");
        Assert.NotNull(camera);
        Assert.Equal(source, camera!.Source);
        Assert.Equal(own, string.Join(' ', camera.Overrides.Select(o => $"{o.Spec.Name}={o.Value}")));
    }

    [Theory]
    [InlineData(new[] { "--camera", "door=test,fps=fast" }, "video-edge: --camera door=test,fps=fast: expected fps to be a number of frames per second from 0.1 to 240")]
    [InlineData(new[] { "--camera", "door=test,rotate=45" }, "video-edge: --camera door=test,rotate=45: expected rotate to be 0, 90, 180 or 270")]
    [InlineData(new[] { "--camera", "door=test", "--camera", "door=test,fps=5" }, "video-edge: --camera door=…: the name 'door' is used twice (flag --camera; flag --camera)")]
    public async Task A_bad_camera_setting_on_the_command_line_exits_2_with_one_line(string[] args, string line)
    {
        var (code, output) = await ProcessServer.RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal(line, output.Trim());
    }

    public static TheoryData<string, string> BadFiles() => new()
    {
        { """{ "fps": 10 "quality": 50 }""", "not valid JSON at line 1, column 13: '\"' is invalid after a value. Expected either ',', '}', or ']'." },
        { "{ \"fps\": 10,\n  \"quality\": }", "not valid JSON at line 2, column 14: '}' is an invalid start of a value." },
        { """{ "lisen": "0.0.0.0:8080" }""", "lisen: unknown setting (the keys are the setting names of video-edge --help, and \"cameras\")" },
        { """{ "fps": "fast" }""", "fps: fast: expected a number of frames per second from 0.1 to 240" },
        { """{ "fps": [1, 2] }""", "fps: expected a single value, not an object or a list" },
        { """{ "cameras": { "door": { "source": "test", "fps": 999 } } }""", "cameras.door.fps: 999: expected a number of frames per second from 0.1 to 240" },
        { """{ "cameras": { "door": { "source": "test", "fps": { "max": 5 } } } }""", "cameras.door.fps: expected a single value, not an object or a list" },
        { """{ "cameras": { "door": { "fps": 5 } } }""", "cameras.door.source: missing (expected a source such as /dev/video0, test, rtsp://… or file:PATH)" },
        { """{ "cameras": { "door": { "source": "test" }, "door": { "source": "test" } } }""", "cameras.door.source: given twice (keys and camera names are case-insensitive: give each once)" },
        { """{ "cameras": { "door": { "source": "test" }, "Door": { "source": "test" } } }""", "cameras.Door.source: given twice (keys and camera names are case-insensitive: give each once)" },
        { """{ "cameras": { "Front Door": { "source": "test" } } }""", "cameras.Front Door: a camera name must match [a-z0-9_-]{1,32} (lower case)" },
        { """{ "cameras": "door" }""", "cameras: expected an object of cameras by name, e.g. \"cameras\": { \"door\": { \"source\": \"/dev/video0\", \"fps\": 15 } }" },
        { """{ "listen": "0.0.0.0:8080", "listen": "127.0.0.1:1" }""", "listen: given twice (keys and camera names are case-insensitive: give each once)" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_bad_file_exits_2_with_one_line_naming_the_file_the_key_and_what_is_allowed(string json, string problem)
    {
        var path = WriteFile("bad.json", json);
        var (code, output) = await ProcessServer.RunAsync(["--config", path]);
        Assert.Equal(2, code);
        Assert.Equal($"video-edge: {path}: {problem}", output.Trim());
    }

    [Fact]
    public async Task A_typo_in_a_camera_key_is_not_ignored()
    {
        var path = WriteFile("typo.json", """{ "cameras": { "door": { "source": "test", "fsp": 5 } } }""");
        var (code, output) = await ProcessServer.RunAsync([], new Dictionary<string, string> { ["VIDEOEDGE_CONFIG"] = path });
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"video-edge: {path}: cameras.door.fsp: unknown key (a camera takes: source, resolution, fps, quality,", line);
    }

    /// <summary>
    /// --help's defaults are read from a fresh EdgeOptions, so each must be a value its own setting
    /// accepts and that means the default: given as a flag, it changes nothing anywhere --print-config looks.
    /// </summary>
    [Fact]
    public void Every_default_help_shows_is_the_value_the_server_runs_with()
    {
        var help = OptionsParser.Help() + OptionsParser.Help(PushConfig.Specs, "", "");
        var defaults = new EdgeOptions();
        var shown = 0;
        foreach (var spec in OptionsParser.Specs.Concat(PushConfig.Specs).Where(s => s.Current is not null && !s.Repeatable))
        {
            Assert.Contains($"default: {spec.Default}   env: {spec.EnvironmentVariable}", help, StringComparison.Ordinal);
            var (options, error) = OptionsParser.Parse([$"--{spec.Name}={spec.Default}"], _ => null);
            Assert.True(options is not null, $"--{spec.Name}={spec.Default}: {error}");
            Assert.All(OptionsParser.Specs.Where(s => s.Current is not null), other =>
                Assert.True(other.Current!(defaults) == other.Current(options), $"--{spec.Name}={spec.Default} changed {other.Name} to {other.Current(options)}"));
            Assert.Equal(VideoEdge.Api.CameraSettingsDto.From(defaults), VideoEdge.Api.CameraSettingsDto.From(options.CameraConfigs[0].Settings));
            shown++;
        }
        Assert.True(shown >= 25, $"only {shown} settings show a default");
        Assert.Contains("default: 640x480", help, StringComparison.Ordinal);
        Assert.Contains("default: 127.0.0.1:8080", help, StringComparison.Ordinal);
        Assert.Contains("default: 4M", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_file_exits_2_naming_it()
    {
        var path = Path.Combine(_dir, "nowhere.json");
        var (code, output) = await ProcessServer.RunAsync(["--config", path]);
        Assert.Equal(2, code);
        Assert.StartsWith($"video-edge: {path}: cannot read the configuration file (", output.Trim());
    }

    [Fact]
    public async Task A_camera_in_the_file_and_on_the_command_line_with_one_name_exits_2()
    {
        var path = WriteFile("dup.json", """{ "cameras": { "door": "test" } }""");
        var (code, output) = await ProcessServer.RunAsync(["--config", path, "--camera", "door=test"]);
        Assert.Equal(2, code);
        Assert.Equal("video-edge: --camera door=…: the name 'door' is used twice (file; flag --camera)", output.Trim());
    }

    [Fact]
    public async Task Old_camera_flags_and_variables_still_work_with_per_camera_settings_in_the_variable()
    {
        await using var server = await ProcessServer.StartAsync(["--resolution", "160x120"], new Dictionary<string, string>
        {
            ["VIDEOEDGE_CAMERA"] = "a=test;b=test,resolution=320x240,scale=0.5",
            ["VIDEOEDGE_QUALITY"] = "70",
        });
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        Assert.Equal((160, 120), Jpeg.Decode(await http.GetByteArrayAsync(server.BaseUrl + "/cams/a/snapshot.jpg")));
        Assert.Equal((160, 120), Jpeg.Decode(await http.GetByteArrayAsync(server.BaseUrl + "/cams/b/snapshot.jpg")));
        using var cameras = JsonDocument.Parse(await http.GetStringAsync(server.BaseUrl + "/api/cameras"));
        Assert.Equal(new[] { "a", "b" }, cameras.RootElement.EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.All(cameras.RootElement.EnumerateArray(), c => Assert.Equal(70, c.GetProperty("settings").GetProperty("quality").GetInt32()));
    }

    [Fact]
    public async Task Print_config_shows_each_value_with_its_origin_and_exits_0()
    {
        var path = WriteFile("print.json", TwoCameraFile.Replace("\"fps\": 10,", "\"fps\": 10, \"quality\": 50, \"send-timeout\": 20,"));
        var (code, output) = await ProcessServer.RunAsync(["--config", path, "--print-config", "--fps", "12"], new Dictionary<string, string> { ["VIDEOEDGE_QUALITY"] = "60" });
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains($"# file: {path}", lines);
        AssertLine(lines, "fps = 12", "flag --fps");
        AssertLine(lines, "quality = 60", "env VIDEOEDGE_QUALITY");
        AssertLine(lines, "send-timeout = 20", "file");
        AssertLine(lines, "listen = 127.0.0.1:8080", "default");
        var door = Array.FindIndex(lines, l => l.StartsWith("camera door = source=test", StringComparison.Ordinal));
        Assert.True(door >= 0, output);
        AssertLine(lines[door..], "fps = 4", "camera's own, file");
        AssertLine(lines[door..], "quality = 60", "inherited, env VIDEOEDGE_QUALITY");
        Assert.DoesNotContain("Serving on", output);
    }

    [Fact]
    public async Task Print_config_redacts_secrets()
    {
        var passwordFile = WriteFile("password", "file-password-123\n");
        var path = WriteFile("secrets.json", """
            {
              "auth-token": "token-from-file-123",
              "ingest-token": "ingest-secret-123",
              "cameras": { "yard": { "source": "rtsp://admin:cam-password-1@192.0.2.7/live?key=url-secret-1" } }
            }
            """);
        var (code, output) = await ProcessServer.RunAsync(
            ["--config", path, "--print-config", "--auth-user", "me", "--auth-password-file", passwordFile,
             "--camera", "porch=http://viewer:porch-password-1@192.0.2.8/mjpg?token=porch-secret-1,fps=5"]);
        Assert.Equal(0, code);
        foreach (var secret in new[] { "token-from-file-123", "ingest-secret-123", "cam-password-1", "url-secret-1", "file-password-123", "porch-password-1", "porch-secret-1", "admin", "viewer" })
        {
            Assert.DoesNotContain(secret, output);
        }
        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        AssertLine(lines, "auth-token = (set, redacted)", "file");
        AssertLine(lines, "ingest-token = (set, redacted)", "file");
        AssertLine(lines, $"auth-password-file = {passwordFile}", "flag --auth-password-file");
        AssertLine(lines, "camera yard = source=rtsp://***@192.0.2.7/live?***", "file");
        AssertLine(lines, "camera porch = source=http://***@192.0.2.8/mjpg?***", "flag --camera");
    }

    [Fact]
    public void The_installed_example_is_valid_and_changes_nothing_and_the_unit_points_at_it()
    {
        var example = Path.Combine(VideoEdge.Tests.Deployment.PublishedBuild.RepositoryRoot, "packaging", "config.json");
        var (options, error) = OptionsParser.Parse(["--config", example], _ => null);
        Assert.True(options is not null, error);
        Assert.Equal(["main"], options!.CameraConfigs.Select(c => c.Name).ToArray());
        Assert.DoesNotContain(options.Given, g => g.Origin == "file");

        // The same example with its lines switched on is valid too: the comments teach working keys.
        var enabled = string.Join('\n', File.ReadAllLines(example).Select(l =>
            l.TrimStart().StartsWith("//", StringComparison.Ordinal) && l.TrimStart()[2..].Trim() is ['"', ..] or "}" ? l.Replace("//", "") : l));
        (options, error) = OptionsParser.Parse(["--config", WriteFile("enabled.json", enabled)], _ => null);
        Assert.True(options is not null, error + "\n" + enabled);
        Assert.Equal(["door", "printer"], options!.CameraConfigs.Select(c => c.Name).ToArray());
        Assert.Equal(180, options.CameraConfigs[0].Settings.Rotate);

        var unit = File.ReadAllText(Path.Combine(VideoEdge.Tests.Deployment.PublishedBuild.RepositoryRoot, "edge.service"));
        Assert.Contains("Environment=VIDEOEDGE_CONFIG=/etc/video-edge/config.json\n", unit);
        // An empty VIDEOEDGE_CONFIG in /etc/default/video-edge means no file.
        (options, error) = OptionsParser.Parse([], name => name == "VIDEOEDGE_CONFIG" ? "" : null);
        Assert.True(options is not null, error);
        Assert.Null(options!.ConfigFile);
    }

    private static void AssertLine(string[] lines, string setting, string origin) =>
        Assert.True(lines.Any(l => l.StartsWith(setting + " ", StringComparison.Ordinal) && l.EndsWith("# " + origin, StringComparison.Ordinal)),
            $"no line '{setting}  # {origin}' in:\n{string.Join('\n', lines)}");

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}
