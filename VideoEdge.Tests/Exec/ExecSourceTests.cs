using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenCvSharp;
using VideoEdge.Imaging;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;
using VideoEdge.Tests.V4l2;

namespace VideoEdge.Tests.Exec;

/// <summary>
/// JPEG files for a test program to write to its stdout, and that program: a Python script that
/// writes them in a loop at a fixed rate with garbage between them (multipart headers, stray text,
/// bytes that look like an SOI), and records its process id in a file each time it starts.
/// </summary>
public sealed class ExecFixture : IDisposable
{
    public const int Width = 320;
    public const int Height = 240;

    private const string Script = """
        import os, signal, sys, time
        fps, pids, ignore_term, files = float(sys.argv[1]), sys.argv[2], sys.argv[3] == "ignore-term", sys.argv[4:]
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
        if ignore_term:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        frames = [open(p, "rb").read() for p in files]
        garbage = [b"", b"\r\n--frame\r\nContent-Type: image/jpeg\r\n\r\n", b"\xff\xd8\x00junk\xff", b"log: wrote a frame\n", b"\xff\xd8\xff\xe0\x00\x01\xff\xff"]
        out = sys.stdout.buffer
        start, i = time.monotonic(), 0
        while True:
            out.write(garbage[i % len(garbage)])
            out.flush()
            out.write(frames[i % len(frames)])
            out.flush()
            i += 1
            time.sleep(max(0.0, start + i / fps - time.monotonic()))
        """;

    public ExecFixture()
    {
        Root = FakeCamera.NewTempDirectory("exec-tests");
        Assert.True(OpenCvRuntime.TryEnsure(out var error), error);
        var files = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            using var image = new Mat(Height, Width, MatType.CV_8UC3, new Scalar(50 * i, 200 - 40 * i, 90));
            Cv2.PutText(image, $"exec {i}", new Point(30, 130), HersheyFonts.HersheySimplex, 2, Scalar.White, 4);
            var path = Path.Combine(Root, $"f{i}.jpg");
            Cv2.ImWrite(path, image, new ImageEncodingParam(ImwriteFlags.JpegQuality, 85));
            files.Add(path);
        }
        // The last file without Huffman tables, as some cameras send them: it must arrive with the standard ones.
        var noDht = FakeCamera.StripDhtFiles([files[3]], Path.Combine(Root, "nodht"))[0];
        Files = [.. files[..3], noDht];
        Expected = [.. files[..3].Select(File.ReadAllBytes), WithStandardTables(File.ReadAllBytes(noDht))];
        ScriptPath = Path.Combine(Root, "write-jpegs.py");
        File.WriteAllText(ScriptPath, Script.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    public string Root { get; }
    public IReadOnlyList<string> Files { get; }

    /// <summary>What viewers must receive for each file, byte for byte.</summary>
    public IReadOnlyList<byte[]> Expected { get; }
    public string ScriptPath { get; }

    /// <summary>An exec: source running the script at <paramref name="fps"/>, recording its pids in <paramref name="pidFile"/>.</summary>
    public string Source(string pidFile, double fps = 10, bool ignoreTerm = false) =>
        $"exec:python3 -u '{ScriptPath}' {fps.ToString(CultureInfo.InvariantCulture)} '{pidFile}' {(ignoreTerm ? "ignore-term" : "-")} "
        + string.Join(' ', Files.Select(f => $"'{f}'"));

    public string NewPidFile() => Path.Combine(Root, $"pids-{Guid.NewGuid():N}");

    public int IndexOf(byte[] body) => Expected.ToList().FindIndex(e => e.AsSpan().SequenceEqual(body));

    private static byte[] WithStandardTables(byte[] jpeg)
    {
        var pos = 2;
        while (jpeg[pos + 1] != 0xDA)
        {
            pos += 2 + (jpeg[pos + 2] << 8 | jpeg[pos + 3]);
        }
        return [.. jpeg.AsSpan(0, pos), .. JpegDht.StandardTables, .. jpeg.AsSpan(pos)];
    }

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

/// <summary>
/// exec:PROGRAM sources with real programs: their JPEGs are passed through byte for byte at their
/// own rate, a killed or failing program shows the no-signal picture with the reason and is
/// restarted with backoff, --slowdown stops it while nobody watches, and it never outlives the server.
/// </summary>
[LongRunning(55)]
public sealed class ExecSourceTests(ExecFixture fx) : IClassFixture<ExecFixture>
{
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task FramesArriveByteForByte_GarbageSkipped_TablesInserted_AtTheProgramsRate_WithoutDecodeOrEncode()
    {
        var pids = fx.NewPidFile();
        await using var server = await ProcessServer.StartAsync(["--source", fx.Source(pids, fps: 10)]);
        using var cts = new CancellationTokenSource(ReadTimeout);
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);

        var seen = new HashSet<int>();
        var timestamps = new List<double>();
        while (timestamps.Count < 40)
        {
            var part = await client.ReadPartAsync(cts.Token);
            var index = fx.IndexOf(part.Body);
            if (index < 0 && timestamps.Count == 0)
            {
                continue; // the no-signal picture ("starting") before the first frame
            }
            Assert.True(index >= 0, $"frame {timestamps.Count} ({part.Body.Length} bytes) is not one of the program's files\nlog:\n{server.Output}");
            seen.Add(index);
            // Capture time is arrival time.
            Assert.InRange((DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds - part.Timestamp, -0.5, 3.0);
            timestamps.Add(part.Timestamp);
        }
        Assert.Equal(4, seen.Count);
        // The program writes 10 per second; the first frame may be one the hub held already.
        var interval = (timestamps[^1] - timestamps[1]) / (timestamps.Count - 2);
        Assert.InRange(interval, 0.07, 0.15);

        var state = await V4l2App.StateAsync(server);
        var source = state.GetProperty("source");
        Assert.Equal("exec", source.GetProperty("kind").GetString());
        Assert.StartsWith("exec:python3 -u ", source.GetProperty("description").GetString());
        Assert.Equal(ExecFixture.Width, source.GetProperty("width").GetInt32());
        Assert.Equal(ExecFixture.Height, source.GetProperty("height").GetInt32());
        Assert.InRange(state.Frames("passthrough"), 40, long.MaxValue);
        Assert.Equal(0, state.Frames("encoded"));
        Assert.Equal(0, state.Frames("decoded"));
        Assert.Single(File.ReadAllLines(pids));
    }

    [Fact]
    public async Task FfmpegWritingMjpegToStdout_IsPassedThroughAtItsRate()
    {
        var source = "exec:ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi -i testsrc2=size=320x240:rate=10 -c:v mjpeg -q:v 5 -f mjpeg -";
        await using var server = await ProcessServer.StartAsync(["--source", source]);
        using var cts = new CancellationTokenSource(ReadTimeout);
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);

        var timestamps = new List<double>();
        var bodies = new HashSet<string>();
        while (timestamps.Count < 40)
        {
            var part = await client.ReadPartAsync(cts.Token);
            if (Jpeg.Decode(part.Body) != (320, 240))
            {
                Assert.Empty(timestamps); // only the "starting" no-signal picture may come before the stream
                continue;
            }
            timestamps.Add(part.Timestamp);
            bodies.Add(Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(part.Body)));
        }
        Assert.True(bodies.Count >= 35, $"only {bodies.Count} distinct frames of 40: frames were repeated");
        var interval = (timestamps[^1] - timestamps[1]) / (timestamps.Count - 2);
        Assert.InRange(interval, 0.07, 0.15);

        var state = await V4l2App.StateAsync(server);
        Assert.Equal("exec", state.GetProperty("source").GetProperty("kind").GetString());
        Assert.Equal(0, state.Frames("encoded"));
        Assert.Equal(0, state.Frames("decoded"));
        Assert.InRange(state.Frames("passthrough"), 40, long.MaxValue);
    }

    [Fact]
    public async Task AKilledProgram_ShowsNoSignalWithTheReason_ThenIsRestartedAndLiveAgain()
    {
        var pids = fx.NewPidFile();
        await using var server = await ProcessServer.StartAsync(["--source", fx.Source(pids)]);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token);
        await ReadUntilAsync(client, body => fx.IndexOf(body) >= 0, "a live frame", cts.Token);
        var first = ReadPids(pids).Single();

        Process.GetProcessById(first).Kill();

        await ReadUntilAsync(client, body => fx.IndexOf(body) < 0 && Jpeg.HasMarkers(body), "the no-signal picture", cts.Token);
        var offline = await V4l2App.WaitForStateAsync(server, s => !s.GetProperty("source").GetProperty("online").GetBoolean(), 20, "offline");
        Assert.Equal("'python3' was killed by signal 9", offline.GetProperty("source").GetProperty("offlineReason").GetString());

        await ReadUntilAsync(client, body => fx.IndexOf(body) >= 0, "a live frame after the restart", cts.Token);
        var restarted = ReadPids(pids);
        Assert.Equal(2, restarted.Count);
        Assert.True(IsRunning(restarted[1]), "the restarted program runs");
        await V4l2App.WaitForStateAsync(server, s => s.GetProperty("source").GetProperty("online").GetBoolean(), 20, "online again");
        Assert.Contains("killed by signal 9. Showing the no-signal picture and retrying", server.Output);
    }

    [Fact]
    public async Task AMissingProgram_IsOneClearLine_AndKeepsBeingRetried()
    {
        await using var server = await ProcessServer.StartAsync(["--source", "exec:no-such-camera-program --flag"]);
        var state = await V4l2App.WaitForStateAsync(server, s => s.GetProperty("source").GetProperty("offlineReason").GetString() is { } r && r != "starting", 20, "an offline reason");
        Assert.Equal("cannot start 'no-such-camera-program': not found (is it installed, and on the PATH?)",
            state.GetProperty("source").GetProperty("offlineReason").GetString());
        // Retried at 1, 3 and 7 s: the same reason is logged once, not once per attempt.
        await Task.Delay(TimeSpan.FromSeconds(8));
        Assert.Equal(1, Count(server.Output, "not found (is it installed, and on the PATH?)"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var snapshot = await http.GetAsync(server.BaseUrl + "/snapshot.jpg");
        Assert.True(snapshot.IsSuccessStatusCode, "the no-signal picture is served");
    }

    [Fact]
    public async Task AProgramThatExitsAtOnce_ShowsItsExitCodeAndLastWords_AndIsRetriedWithBackoff()
    {
        var starts = fx.NewPidFile();
        var script = $"exec:sh -c 'echo start >> \"{starts}\"; echo starting camera >&2; echo no camera found >&2; exit 3'";
        await using var server = await ProcessServer.StartAsync(["--source", script]);
        var state = await V4l2App.WaitForStateAsync(server, s => s.GetProperty("source").GetProperty("offlineReason").GetString() is { } r && r != "starting", 20, "an offline reason");
        Assert.Equal("'sh' exited with code 3: no camera found", state.GetProperty("source").GetProperty("offlineReason").GetString());

        var firstStart = DateTime.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(10));
        // Waits of 1, 2, 4, 8 s: 4 or 5 starts in these 10 s (a fixed 1 s retry would make ~10).
        var count = File.ReadAllLines(starts).Length;
        Assert.InRange(count, 2, 5);
        Assert.Equal(1, Count(server.Output, "exited with code 3: no camera found. Showing the no-signal picture"));
        Assert.Contains("sh: no camera found", server.Output);
        Assert.True(DateTime.UtcNow - firstStart < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task AProgramThatStallsIsStoppedAfter10sAndRestarted()
    {
        var starts = fx.NewPidFile();
        var source = $"exec:sh -c 'echo start >> \"{starts}\"; cat \"{fx.Files[0]}\"; exec sleep 600'";
        await using var server = await ProcessServer.StartAsync(["--source", source]);
        await V4l2App.WaitForStateAsync(server, s => s.Frames("passthrough") == 1, 20, "the one frame");
        var state = await V4l2App.WaitForStateAsync(server, s => s.GetProperty("source").GetProperty("offlineReason").ValueKind == JsonValueKind.String, 30, "offline");
        Assert.Equal("'sh' wrote no JPEG for 10 s", state.GetProperty("source").GetProperty("offlineReason").GetString());
        await V4l2App.WaitForStateAsync(server, s => s.Frames("passthrough") == 2, 20, "the restarted program's frame");
        Assert.Equal(2, File.ReadAllLines(starts).Length);
    }

    [Fact]
    public async Task FramesOverMaxFrameBytes_StopTheProgramWithThatReason()
    {
        await using var server = await ProcessServer.StartAsync(["--source", fx.Source(fx.NewPidFile()), "--max-frame-bytes", "1K"]);
        var state = await V4l2App.WaitForStateAsync(server, s => s.GetProperty("source").GetProperty("offlineReason").GetString() is { } r && r != "starting", 20, "an offline reason");
        Assert.Equal("'python3' writes JPEGs larger than --max-frame-bytes (1024 bytes)", state.GetProperty("source").GetProperty("offlineReason").GetString());
        Assert.Equal(0, state.Frames("passthrough"));
    }

    [Fact]
    public async Task ServerShutdown_StopsTheProgram_EvenOneThatIgnoresSigterm()
    {
        var pids = fx.NewPidFile();
        var server = await ProcessServer.StartAsync(["--source", fx.Source(pids, ignoreTerm: true)]);
        await using (server)
        {
            await V4l2App.WaitForStateAsync(server, s => s.Frames("passthrough") > 0, 20, "frames");
            var pid = ReadPids(pids).Single();
            Assert.True(IsRunning(pid));

            Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(20)));
            Assert.False(IsRunning(pid), $"process {pid} outlived the server\nlog:\n{server.Output}");
            Assert.Contains("ignored SIGTERM; killing it", server.Output);
        }
    }

    [Fact]
    public async Task AServerThatDies_DoesNotLeaveTheProgramBehind()
    {
        var pids = fx.NewPidFile();
        await using var server = await ProcessServer.StartAsync(["--source", fx.Source(pids)]);
        await V4l2App.WaitForStateAsync(server, s => s.Frames("passthrough") > 0, 20, "frames");
        var pid = ReadPids(pids).Single();

        server.Process.Kill(); // SIGKILL: no chance to clean up; the program's next write fails instead
        await server.Process.WaitForExitAsync();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (IsRunning(pid) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.False(IsRunning(pid), $"process {pid} outlived the server");
    }

    [Fact]
    public async Task WithSlowdown_TheProgramRunsOnlyWhileSomeoneWatches()
    {
        var pids = fx.NewPidFile();
        await using var server = await ProcessServer.StartAsync(["--source", fx.Source(pids), "--slowdown"]);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.False(File.Exists(pids), "the program was started although nobody watches");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using (var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token))
        {
            await ReadUntilAsync(client, body => fx.IndexOf(body) >= 0, "a live frame", cts.Token);
        }
        var first = ReadPids(pids).Single();

        // The viewer left: after a few seconds the program is stopped.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (IsRunning(first) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Assert.False(IsRunning(first), $"the program still runs with nobody watching\nlog:\n{server.Output}");
        Assert.Contains("nobody watches; stopping 'python3' (--slowdown)", server.Output);
        var state = await V4l2App.StateAsync(server);
        Assert.True(state.GetProperty("source").GetProperty("online").GetBoolean(), "pausing is not a fault");

        // The next viewer starts it again.
        await using (var client = await MjpegClient.ConnectAsync(server.BaseUrl + "/stream.mjpg", cts.Token))
        {
            await ReadUntilAsync(client, body => fx.IndexOf(body) >= 0 && ReadPids(pids).Count == 2, "a live frame from a new process", cts.Token);
        }
        Assert.True(IsRunning(ReadPids(pids)[1]));
    }

    private static async Task ReadUntilAsync(MjpegClient client, Func<byte[], bool> condition, string what, CancellationToken cancellation)
    {
        try
        {
            while (!condition((await client.ReadPartAsync(cancellation)).Body))
            {
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no {what} in time");
        }
    }

    private static List<int> ReadPids(string file) =>
        File.Exists(file) ? [.. File.ReadAllLines(file).Where(l => l.Length > 0).Select(l => int.Parse(l, CultureInfo.InvariantCulture))] : [];

    /// <summary>True while the process exists and is not a zombie waiting for its parent.</summary>
    private static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    private static int Count(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + 1, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
