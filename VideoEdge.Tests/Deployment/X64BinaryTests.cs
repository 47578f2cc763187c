using System.Diagnostics;
using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using OpenCvSharp;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.MultiCamera;

namespace VideoEdge.Tests.Deployment;

/// <summary>The linux-x64 Native AOT binary as publish.sh leaves it in dist/linux-x64/.</summary>
[Collection(DeploymentCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class X64BinaryTests(PublishedBuilds builds)
{
    private const long SizeTarget = 15 * 1024 * 1024;

    [Fact]
    public async Task Publish_gives_a_small_binary_with_OpenCV_and_the_install_files_beside_it_and_no_warnings()
    {
        var build = await builds.GetAsync("linux-x64");

        Assert.Equal(0x3E, PublishedBuild.ElfMachine(build.Binary));
        var size = new FileInfo(build.Binary).Length;
        Assert.True(size < SizeTarget, $"video-edge is {size} bytes, over the 15 MB target");
        Assert.Contains($"{size} bytes", build.Log);
        Assert.True(File.Exists(build.OpenCvLibrary), build.Log);
        foreach (var file in new[] { "edge.service", "video-edge.default", "publish.sh" })
        {
            Assert.True(File.Exists(Path.Combine(build.Folder, file)), $"{file} is missing from {build.Folder}");
        }
        Assert.DoesNotContain("warning", build.Log, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Serves_the_test_pattern_and_a_video_file_and_exits_0_on_SIGTERM()
    {
        var build = await builds.GetAsync("linux-x64");
        var dir = TestVideos.NewDirectory();
        try
        {
            var clip = TestVideos.Solid(dir, "clip", new Scalar(0, 0, 255));
            await using var server = await ProcessServer.StartAsync(["--source", "test", "--camera", "clip=file:" + clip], executable: build.Binary);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

            using var snapshot = await http.GetAsync(server.BaseUrl + "/snapshot.jpg");
            Assert.Equal(HttpStatusCode.OK, snapshot.StatusCode);
            Assert.Equal("image/jpeg", snapshot.Content.Headers.ContentType?.MediaType);
            var jpeg = await snapshot.Content.ReadAsByteArrayAsync();
            Assert.True(Jpeg.HasMarkers(jpeg));
            Assert.Equal((640, 480), Jpeg.Decode(jpeg));
            Assert.Equal((320, 240), Jpeg.Decode(await http.GetByteArrayAsync(server.BaseUrl + "/cams/clip/snapshot.jpg")));
            // Real pictures, not the no-signal one: OpenCV was found beside the binary, for drawing and for decoding.
            foreach (var state in new[] { "/api/state", "/cams/clip/state" })
            {
                var source = JsonDocument.Parse(await http.GetStringAsync(server.BaseUrl + state)).RootElement.GetProperty("source");
                Assert.True(source.GetProperty("online").GetBoolean(), source.ToString());
            }

            var stopwatch = Stopwatch.StartNew();
            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(10)));
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(2), $"took {stopwatch.Elapsed.TotalSeconds:0.00} s to stop\n{server.Output}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// The fake camera is an LD_PRELOAD library: the AOT binary must call open/ioctl through the
    /// process's global symbols. It once bound "libc" for getrlimit (the file limit, at start) before
    /// V4L2 installed its resolver, and then reported "no such device" for every preloaded camera.
    /// </summary>
    [Fact]
    public async Task Serves_an_MJPEG_camera_that_an_LD_PRELOAD_library_provides()
    {
        var build = await builds.GetAsync("linux-x64");
        var dir = FakeCamera.NewTempDirectory("videoedge-aot-fakecam");
        try
        {
            var frames = FakeCamera.MakeTestJpegs(Path.Combine(dir, "frames"), 640, 480, 4).Select(File.ReadAllBytes).ToList();
            await using var server = await ProcessServer.StartAsync(["--source", "/dev/video0", "--format", "mjpeg"],
                new Dictionary<string, string>
                {
                    ["LD_PRELOAD"] = FakeCamera.LibraryPath,
                    ["FAKECAM_DEVICE"] = "/dev/video0",
                    ["FAKECAM_FORMATS"] = "mjpeg",
                    ["FAKECAM_JPEGS"] = Path.Combine(dir, "frames"),
                },
                executable: build.Binary);
            await using var stream = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            for (var i = 0; i < 3; i++)
            {
                var part = await stream.ReadPartAsync(timeout.Token);
                Assert.True(frames.Any(f => f.AsSpan().SequenceEqual(part.Body)), $"part {i} is not one of the camera's frames (no-signal?)\n{server.Output}");
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Says_whether_OpenCV_is_missing_or_which_library_it_lacks_and_still_serves_pictures()
    {
        var build = await builds.GetAsync("linux-x64");
        var dir = FakeCamera.NewTempDirectory("videoedge-no-opencv");
        try
        {
            var binary = Path.Combine(dir, "video-edge");
            File.Copy(build.Binary, binary);
            File.SetUnixFileMode(binary, File.GetUnixFileMode(build.Binary));

            var missing = await OfflineReasonAsync(binary);
            Assert.Contains($"libOpenCvSharpExtern.so is neither beside the video-edge binary in {dir}/", missing);

            // A library whose own dependency is not installed, as an OpenCV built for another distribution would be.
            var dependency = Path.Combine(dir, "libvideoedge-test-dependency.so");
            var source = Path.Combine(dir, "lib.c");
            await File.WriteAllTextAsync(source, "int videoedge_test_dependency(void) { return 1; }\n");
            await CompileAsync(["-shared", "-fPIC", "-o", dependency, source]);
            await File.WriteAllTextAsync(source, "int videoedge_test_dependency(void);\nint uses_it(void) { return videoedge_test_dependency(); }\n");
            await CompileAsync(["-shared", "-fPIC", "-o", Path.Combine(dir, "libOpenCvSharpExtern.so"), source, "-L" + dir, "-lvideoedge-test-dependency"]);
            File.Delete(dependency);

            var broken = await OfflineReasonAsync(binary);
            Assert.Contains($"{dir}/libOpenCvSharpExtern.so is there but cannot be loaded", broken);
            Assert.Contains("libvideoedge-test-dependency.so: cannot open shared object file", broken);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Runs the test pattern without a usable OpenCV: the no-signal picture is served and /api/state says why.</summary>
    private static async Task<string> OfflineReasonAsync(string binary)
    {
        await using var server = await ProcessServer.StartAsync(["--source", "test"], executable: binary);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var jpeg = await http.GetByteArrayAsync(server.BaseUrl + "/snapshot.jpg");
        Assert.True(Jpeg.HasMarkers(jpeg));
        var source = JsonDocument.Parse(await http.GetStringAsync(server.BaseUrl + "/api/state")).RootElement.GetProperty("source");
        Assert.False(source.GetProperty("online").GetBoolean(), source.ToString());
        return source.GetProperty("offlineReason").GetString()!;
    }

    private static async Task CompileAsync(IEnumerable<string> args)
    {
        var result = await Command.RunAsync("gcc", args);
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
