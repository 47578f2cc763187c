using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpenCvSharp;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.MultiCamera;

/// <summary>
/// A camera server → VideoEdge B (pull relay) → viewer: the viewer gets the camera's bytes. The fake
/// camera serves known JPEG files, so every byte can be checked end to end.
/// </summary>
public sealed class ChainTests
{
    [Fact]
    public async Task Fake_camera_through_videoedge_a_and_relay_b_reaches_the_viewer_byte_identical()
    {
        using var files = new ChainJpegs();
        await using var a = await ProcessServer.StartAsync(["--source", "/dev/video0", "--format", "mjpeg", "--resolution", "320x240"],
            new Dictionary<string, string>(new FakeCameraOptions().WithJpegs(files.Paths).WithFps(15).Environment()));
        await using var b = await EdgeTestServer.StartAsync("--camera", "a=mjpeg+" + a.BaseUrl + "/stream.mjpg");
        await AssertViewerGetsTheFilesAsync(b, files);
    }

    [Fact]
    public async Task Fake_camera_through_ustreamer_and_relay_b_reaches_the_viewer_byte_identical()
    {
        using var files = new ChainJpegs();
        var port = FreePort();
        var info = new ProcessStartInfo("ustreamer") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--device", "/dev/video0", "--format", "MJPEG", "--encoder", "HW", "--resolution", "320x240", "--host", "127.0.0.1", "--port", port.ToString() })
        {
            info.ArgumentList.Add(arg);
        }
        new FakeCameraOptions().WithJpegs(files.Paths).WithFps(15).ApplyTo(info);
        using var ustreamer = Process.Start(info)!;
        ustreamer.OutputDataReceived += (_, _) => { };
        ustreamer.ErrorDataReceived += (_, _) => { };
        ustreamer.BeginOutputReadLine();
        ustreamer.BeginErrorReadLine();
        try
        {
            await using var b = await EdgeTestServer.StartAsync("--camera", $"a=mjpeg+http://127.0.0.1:{port}/stream");
            await AssertViewerGetsTheFilesAsync(b, files);
        }
        finally
        {
            ustreamer.Kill();
            await ustreamer.WaitForExitAsync();
        }
    }

    private static async Task AssertViewerGetsTheFilesAsync(EdgeTestServer b, ChainJpegs files)
    {
        await WaitUntilAsync(() => b.Camera.Stats.Passthrough >= 3, "B relays frames", 60);
        await using var viewer = await MjpegClient.ConnectAsync(b.BaseUrl + "/cams/a/stream.mjpg");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var seen = new List<int>();
        while (seen.Count < 30)
        {
            var index = files.IndexOf((await viewer.ReadPartAsync(timeout.Token)).Body);
            // Only the camera's own files (the no-signal picture B shows before its first frame aside).
            if (index >= 0 || seen.Count > 0)
            {
                Assert.True(index >= 0, "a frame that is not one of the camera's files");
                seen.Add(index);
            }
        }
        Assert.Equal(files.Paths.Count, seen.Distinct().Count());
        // B only passed bytes through: nothing decoded or encoded on the way.
        Assert.Equal(0, b.Camera.Stats.Encoded);
        Assert.Equal(0, b.Camera.Stats.Decoded);
        Assert.Equal(0, b.Camera.Stats.Dropped);
    }

    [Fact]
    public async Task B_rides_out_a_restart_of_a()
    {
        var first = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240");
        var port = new Uri(first.BaseUrl).Port;
        await using var b = await EdgeTestServer.StartAsync("--camera", "a=mjpeg+" + first.BaseUrl + "/stream.mjpg", "--resolution", "320x240");
        await b.WaitForFramesAsync(5);
        var relay = b.Camera;
        Assert.True(relay.Capture.Online);
        // B is one viewer of A, however many viewers B has.
        await using (var v1 = await MjpegClient.ConnectAsync(b.BaseUrl + "/stream.mjpg"))
        await using (var v2 = await MjpegClient.ConnectAsync(b.BaseUrl + "/stream.mjpg"))
        {
            await v1.ReadPartAsync();
            await v2.ReadPartAsync();
            Assert.Equal(1, first.Camera.Hub.ViewerCount);
        }

        await first.DisposeAsync();
        await WaitUntilAsync(() => !relay.Capture.Online && relay.Stats.NoSignalFrames > 0, "B noticed A going away");
        Assert.Contains("ended the stream", relay.Capture.OfflineReason ?? "");

        await using var second = await EdgeTestServer.StartAsync("--source", "test", "--fps", "15", "--resolution", "320x240", "--listen", $"127.0.0.1:{port}");
        await WaitUntilAsync(() => relay.Capture.Online && second.Camera.Hub.ViewerCount == 1, "B reconnected to the restarted A");
        var relayed = relay.Stats.Passthrough;
        await WaitUntilAsync(() => relay.Stats.Passthrough >= relayed + 5, "B relays the restarted A");
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, string what, double seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Four distinct 320x240 JPEG files for the fake camera, and their bytes.</summary>
    private sealed class ChainJpegs : IDisposable
    {
        private readonly string _directory = FakeCamera.NewTempDirectory("chain");

        public ChainJpegs()
        {
            var paths = new List<string>();
            for (var i = 0; i < 4; i++)
            {
                using var image = new Mat(240, 320, MatType.CV_8UC3, new Scalar(60 * i, 220 - 50 * i, 120));
                Cv2.PutText(image, $"chain {i}", new Point(40, 130), HersheyFonts.HersheySimplex, 1.5, Scalar.White, 3);
                var path = Path.Combine(_directory, $"f{i}.jpg");
                Cv2.ImWrite(path, image);
                paths.Add(path);
            }
            Paths = paths;
            Bytes = [.. paths.Select(File.ReadAllBytes)];
        }

        public IReadOnlyList<string> Paths { get; }
        public IReadOnlyList<byte[]> Bytes { get; }

        public int IndexOf(byte[] body) => Bytes.ToList().FindIndex(b => b.AsSpan().SequenceEqual(body));

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
