using System.Text.Json;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Deployment;

/// <summary>
/// Our stand-in for a Raspberry Pi: the cross-built linux-arm64 binary under qemu-aarch64, with the
/// fake USB camera built for arm64 preloaded into it and no OpenCV at all (none is published for
/// arm64 here), serving an MJPEG camera byte for byte.
/// </summary>
[Collection(DeploymentCollection.Name)]
public sealed class Arm64BinaryTests(PublishedBuilds builds) : IDisposable
{
    private readonly string _dir = FakeCamera.NewTempDirectory("videoedge-arm64");

    [Fact]
    public async Task Serves_snapshots_and_the_stream_of_an_MJPEG_camera_under_qemu_without_OpenCV()
    {
        var build = await builds.GetAsync("linux-arm64");
        Assert.Equal(0xB7, PublishedBuild.ElfMachine(build.Binary));
        // 13.9 MB before the NATS client (--bus) came in, 15.2 MB with it: a bound that catches the
        // next accidental dependency, not one that forbids features.
        Assert.True(new FileInfo(build.Binary).Length < 16 * 1024 * 1024, build.Log);

        var fakecam = Path.Combine(_dir, "libfakecam.so");
        var compiled = await Command.RunAsync("aarch64-linux-gnu-gcc",
            ["-O2", "-Wall", "-Wextra", "-fPIC", "-pthread", "-shared", "-o", fakecam, Path.Combine(FakeCamera.SourceDirectory, "fakecam.c"), "-ldl"]);
        Assert.True(compiled.ExitCode == 0, compiled.ToString());
        var frames = FakeCamera.MakeTestJpegs(Path.Combine(_dir, "frames"), 640, 480, 4).Select(File.ReadAllBytes).ToList();
        // A second camera that would need OpenCV: it must be reported, not crash the start.
        var clip = Path.Combine(_dir, "clip.avi");
        await File.WriteAllBytesAsync(clip, frames[0]);

        // qemu's -E sets the variable for the arm64 program only; set for qemu itself, the x86-64
        // loader would try to preload an arm64 library into qemu.
        await using var server = await ProcessServer.StartAsync(
            ["-L", "/usr/aarch64-linux-gnu", "-E", "LD_PRELOAD=" + fakecam, build.Binary, "--source", "/dev/video0", "--camera", "clip=file:" + clip],
            new Dictionary<string, string>
            {
                ["FAKECAM_DEVICE"] = "/dev/video0",
                ["FAKECAM_JPEGS"] = Path.Combine(_dir, "frames"),
                ["VIDEOEDGE_NO_OPENCV"] = "1",
            },
            executable: "qemu-aarch64");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        var snapshot = await http.GetByteArrayAsync(server.BaseUrl + "/snapshot.jpg");
        Assert.Contains(frames, f => f.AsSpan().SequenceEqual(snapshot));

        await using (var stream = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg"))
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            long previous = 0;
            for (var i = 0; i < 5; i++)
            {
                var part = await stream.ReadPartAsync(timeout.Token);
                Assert.Contains(frames, f => f.AsSpan().SequenceEqual(part.Body));
                Assert.True(part.Sequence > previous, $"sequence {part.Sequence} after {previous}");
                previous = part.Sequence;
            }
        }

        var state = JsonDocument.Parse(await http.GetStringAsync(server.BaseUrl + "/api/state")).RootElement;
        Assert.Equal("v4l2", state.GetProperty("source").GetProperty("kind").GetString());
        Assert.Equal(0, state.GetProperty("frames").GetProperty("encoded").GetInt64());
        Assert.True(state.GetProperty("frames").GetProperty("passthrough").GetInt64() >= 5, state.ToString());
        var clipSource = JsonDocument.Parse(await http.GetStringAsync(server.BaseUrl + "/cams/clip/state")).RootElement.GetProperty("source");
        Assert.False(clipSource.GetProperty("online").GetBoolean());
        Assert.Contains("needs OpenCV", clipSource.GetProperty("offlineReason").GetString());

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(15)));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
