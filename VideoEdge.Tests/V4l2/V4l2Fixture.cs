using System.Text.Json;
using OpenCvSharp;
using VideoEdge.Imaging;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.V4l2;

/// <summary>
/// JPEG files for the fake camera to serve: four distinct 640x480 frames encoded by libjpeg with
/// the standard Huffman tables (so DHT-less copies decode to the same pixels once the tables are
/// put back), and those copies.
/// </summary>
public sealed class V4l2Fixture : IDisposable
{
    public const int Width = 640;
    public const int Height = 480;

    public V4l2Fixture()
    {
        Root = FakeCamera.NewTempDirectory("v4l2-tests");
        Assert.True(OpenCvRuntime.TryEnsure(out var error), error);
        var files = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var image = new Mat(Height, Width, MatType.CV_8UC3, new Scalar(40 * i, 200 - 40 * i, 90));
            Cv2.PutText(image, $"frame {i}", new Point(60, 260), HersheyFonts.HersheySimplex, 3, Scalar.White, 6);
            var path = Path.Combine(Root, $"f{i}.jpg");
            Cv2.ImWrite(path, image, new ImageEncodingParam(ImwriteFlags.JpegQuality, 85));
            files.Add(path);
        }
        Files = files;
        Bytes = [.. files.Select(File.ReadAllBytes)];
        NoDhtFiles = FakeCamera.StripDhtFiles(files, Path.Combine(Root, "nodht"));
        NoDhtBytes = [.. NoDhtFiles.Select(File.ReadAllBytes)];
        _ = FakeCamera.LibraryPath;
    }

    public string Root { get; }
    public IReadOnlyList<string> Files { get; }
    public IReadOnlyList<byte[]> Bytes { get; }
    public IReadOnlyList<string> NoDhtFiles { get; }
    public IReadOnlyList<byte[]> NoDhtBytes { get; }

    /// <summary>An MJPEG+YUYV camera at /dev/video0 serving <see cref="Files"/>.</summary>
    public FakeCameraOptions Camera => new FakeCameraOptions().WithJpegs(Files);

    /// <summary>Index of the served file equal to <paramref name="body"/>, or -1 (a no-signal picture, say).</summary>
    public int IndexOf(byte[] body) => Bytes.ToList().FindIndex(b => b.AsSpan().SequenceEqual(body));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Starts the app as a child process with the fake camera preloaded, and reads its state.</summary>
internal static class V4l2App
{
    public static Task<ProcessServer> StartAsync(FakeCameraOptions camera, IEnumerable<string> args, IDictionary<string, string>? extraEnvironment = null)
    {
        var environment = new Dictionary<string, string>(camera.Environment());
        foreach (var (k, v) in extraEnvironment ?? new Dictionary<string, string>())
        {
            environment[k] = v;
        }
        return ProcessServer.StartAsync(["--source", camera.DevicePath, .. args], environment);
    }

    public static async Task<JsonElement> StateAsync(ProcessServer server)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var json = await http.GetStringAsync(server.BaseUrl + "/api/state");
        return JsonDocument.Parse(json).RootElement.Clone();
    }

    public static long Frames(this JsonElement state, string counter) => state.GetProperty("frames").GetProperty(counter).GetInt64();

    /// <summary>Polls /api/state until <paramref name="condition"/> holds; fails with the last state after <paramref name="seconds"/>.</summary>
    public static async Task<JsonElement> WaitForStateAsync(ProcessServer server, Func<JsonElement, bool> condition, double seconds, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var state = await StateAsync(server);
            if (condition(state))
            {
                return state;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{what} not reached in {seconds} s; state: {state}\nlog:\n{server.Output}");
            await Task.Delay(50);
        }
    }
}
