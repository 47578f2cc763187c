using System.Diagnostics;
using VideoEdge.Bench.Load;

namespace VideoEdge.Bench.Harness;

/// <summary>
/// Runs the scenario groups. Within a group the servers take turns session by session
/// (A B C D A B C D …) so slow drifts of a shared machine hit every server alike.
/// </summary>
internal sealed class Runner(BenchPaths paths, BenchOptions options, ViewerProcess viewers)
{
    /// <summary>
    /// The before kinds run only with --baseline-binary (options.Wants filters them out otherwise), each right
    /// before its current build so the pair compared meets the machine in the same state.
    /// </summary>
    private static readonly ServerKind[] s_all = [ServerKind.Floor, ServerKind.UStreamer, ServerKind.VideoEdgeBefore, ServerKind.VideoEdge,
        ServerKind.VideoEdgeWsBefore, ServerKind.VideoEdgeWs];

    public List<Measurement> Measurements { get; } = [];
    public List<StartupMeasurement> Startups { get; } = [];
    public List<WakeMeasurement> Wakes { get; } = [];

    private int Reps(int normal) => options.Reps ?? (options.Quick ? 1 : normal);

    private sealed record Step(int Clients, int Slow, double Warmup, double Measure);

    public async Task RunAllAsync()
    {
        var quick = options.Quick;
        var hd = new CameraSetup("1280x720");
        if (options.Wants("startup"))
        {
            await StartupAsync(Reps(5));
        }
        if (options.Wants("sweep"))
        {
            var counts = options.Viewers ?? (quick ? [1, 50] : [1, 10, 50, 200]);
            var steps = counts.Select(c => new Step(c, 0, 1, quick ? 2 : 3)).ToArray();
            await GroupAsync("sweep", hd, s_all, steps, Reps(3));
        }
        if (options.Wants("resolutions") && !quick)
        {
            foreach (var res in new[] { "640x480", "1920x1080" })
            {
                await GroupAsync("resolutions", new CameraSetup(res), s_all, [new Step(50, 0, 1, 3)], Reps(2));
            }
        }
        if (options.Wants("slow"))
        {
            // At 20 KB/s a 720p frame takes 6 s: warm up past each slow viewer's first frame, then watch a few more.
            ServerKind[] servers = quick ? [ServerKind.UStreamer, ServerKind.VideoEdge] : s_all;
            await GroupAsync("slow", hd, servers, [new Step(50, 10, 6.5, quick ? 7 : 14)], Reps(1));
        }
        if (options.Wants("soak") && !quick)
        {
            await GroupAsync("soak", hd, [ServerKind.VideoEdge, ServerKind.VideoEdgeBefore], [new Step(50, 0, 2, 60)], 1);
        }
        if (options.Wants("ingest"))
        {
            // The same WebSocket viewers; frames from the camera in the server's own process, pushed by a
            // producer process to /cams/NAME/ingest, or published by it on a NATS bus.
            int[] counts = quick ? [10, 200] : [10, 50, 200];
            // 5 s windows: the differences sought are ~10 %, on a shared machine.
            var steps = counts.Select(c => new Step(c, 0, 1, quick ? 2 : 5)).ToArray();
            await GroupAsync("ingest", hd, [ServerKind.VideoEdgeWs, ServerKind.VideoEdgeIngest, ServerKind.VideoEdgeBus], steps, Reps(3));
        }
        if (options.Wants("wake"))
        {
            await WakeAsync(Reps(5));
        }
        if (options.Wants("yuyv"))
        {
            ServerKind[] encoders = options.VideoEdgeSource == "camera" ? [ServerKind.UStreamer, ServerKind.VideoEdge] : [ServerKind.UStreamer];
            await GroupAsync("yuyv", new CameraSetup("1280x720", "yuyv"), encoders, [new Step(1, 0, 1.5, quick ? 3 : 4)], Reps(2));
        }
    }

    private async Task GroupAsync(string group, CameraSetup camera, ServerKind[] servers, Step[] steps, int reps)
    {
        for (var rep = 1; rep <= reps; rep++)
        {
            foreach (var kind in servers.Where(options.Wants))
            {
                try
                {
                    await SessionAsync(group, camera, kind, steps, rep);
                }
                catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
                {
                    Setup.Log($"  {ServerProcess.Label(kind)} failed: {ex.Message}");
                }
            }
        }
    }

    private async Task SessionAsync(string group, CameraSetup camera, ServerKind kind, Step[] steps, int rep)
    {
        using var server = ServerProcess.Start(kind, camera, paths, options);
        await server.WaitReadyAsync(TimeSpan.FromSeconds(30));
        if (server.IsVideoEdge)
        {
            // The first /api/state of a process allocates once (~360 KB: serializer and endpoint set-up); keep it out of the first window.
            VideoEdgeStateReader.Read(server.Port);
        }
        Thread.Sleep(500);
        var idle = ProcSample.Read(server.Pid);
        foreach (var step in steps)
        {
            var spec = new LoadSpec
            {
                Port = server.Port,
                Path = server.StreamPath,
                Transport = server.Transport,
                Clients = step.Clients,
                SlowClients = step.Slow,
                SlowReceiveBuffer = options.SlowReceiveBuffer,
                WarmupSeconds = step.Warmup,
                MeasureSeconds = step.Measure,
                Threads = options.ViewerThreads,
            };
            CpuMeter? serverCpu = null, viewerCpu = null;
            VideoEdgeState? before = null, after = null;
            double cpu = 0, viewerSeconds = 0;
            ProcSample start = default, end = default;
            var load = viewers.Run(spec,
                onStart: () =>
                {
                    before = server.IsVideoEdge ? VideoEdgeStateReader.Read(server.Port) : null;
                    start = ProcSample.Read(server.Pid);
                    ProcSample.ResetPeak(server.Pid);
                    serverCpu = new CpuMeter(server.Pid);
                    viewerCpu = new CpuMeter(viewers.Pid);
                },
                onEnd: () =>
                {
                    cpu = serverCpu!.Elapsed();
                    viewerSeconds = viewerCpu!.Elapsed();
                    end = ProcSample.Read(server.Pid);
                    after = server.IsVideoEdge ? VideoEdgeStateReader.Read(server.Port) : null;
                });
            var m = new Measurement
            {
                Group = group,
                Scenario = ScenarioName(group, camera, step),
                Server = kind,
                Rep = rep,
                Resolution = camera.Resolution,
                Format = camera.Format,
                Clients = step.Clients,
                SlowClients = step.Slow,
                CpuSeconds = cpu,
                ViewerCpuSeconds = viewerSeconds,
                IdleRssBytes = idle.RssBytes,
                RssStartBytes = start.RssBytes,
                RssBytes = end.RssBytes,
                PeakRssBytes = end.PeakRssBytes,
                AllocatedBytes = after is not null && before is not null ? after.Process.AllocatedBytes - before.Process.AllocatedBytes : null,
                Gen0 = after is not null && before is not null ? after.Process.Gen0Collections - before.Process.Gen0Collections : null,
                Gen1 = after is not null && before is not null ? after.Process.Gen1Collections - before.Process.Gen1Collections : null,
                Gen2 = after is not null && before is not null ? after.Process.Gen2Collections - before.Process.Gen2Collections : null,
                PoolOutstanding = after?.Pool.Outstanding,
                ReceivedFrames = after?.Frames is { } a && before?.Frames is { } b ? a.Captured - b.Captured : null,
                Load = load,
            };
            Measurements.Add(m);
            Setup.Log($"  {m.Scenario,-34} {ServerProcess.Label(kind),-16} rep {rep}: {m.CpuPer1000Frames:F3} CPU-s/1000 frames, " +
                $"{load.FastMedianFps:F1} fps" + (m.AllocatedPerReceivedFrame is { } alloc ? $", {alloc:F0} B alloc per received frame" : "") + $", p50 {load.LatencyP50Ms:F1} ms, p99 {load.LatencyP99Ms:F1} ms, viewer CPU {m.ViewerCpuShare:P0}" +
                (load.SlowClients > 0 ? $", slow age {load.SlowAgeStartP50Ms / 1000:F1} s" : "") +
                (load.Failed > 0 ? $", {load.Failed} failed: {string.Join("; ", load.Errors)}" : ""));
            Thread.Sleep(300);
        }
    }

    public static string ScenarioName(string group, CameraSetup camera, int clients, int slow) =>
        $"{(camera.Format == "yuyv" ? "YUYV " : "")}{camera.Resolution} {clients} clients" + (slow > 0 ? $" ({slow} slow)" : "") + (group == "soak" ? " 60 s" : "");

    private static string ScenarioName(string group, CameraSetup camera, Step step) => ScenarioName(group, camera, step.Clients, step.Slow);

    /// <summary>
    /// --on-demand 1: waits until /api/state says the camera is idle (switched off), then times an MJPEG
    /// viewer's request to its first complete picture, for the fake camera (V4L2), the test pattern and an
    /// exec: source (ffmpeg writing MJPEG). One server per source; it goes idle again between repetitions.
    /// </summary>
    private async Task WakeAsync(int reps)
    {
        var hd = new CameraSetup("1280x720");
        (string Label, string Source)[] cases =
        [
            ("fake V4L2 camera", ServerProcess.Device),
            ("test pattern", "test"),
            ("exec: ffmpeg", "exec:ffmpeg -hide_banner -loglevel error -re -f lavfi -i testsrc2=size=1280x720:rate=30 -c:v mjpeg -f mjpeg -"),
        ];
        foreach (var (label, source) in cases)
        {
            try
            {
                using var server = ServerProcess.Start(ServerKind.VideoEdge, hd, paths, options, source: source, extra: ["--on-demand", "1"]);
                await server.WaitReadyAsync(TimeSpan.FromSeconds(30));
                for (var rep = 1; rep <= reps; rep++)
                {
                    var idleSince = Stopwatch.StartNew();
                    while (VideoEdgeStateReader.Read(server.Port)?.Source?.State != "idle")
                    {
                        if (idleSince.Elapsed > TimeSpan.FromSeconds(20))
                        {
                            throw new TimeoutException($"{label}: the camera did not go idle within 20 s of its last viewer");
                        }
                        await Task.Delay(100);
                    }
                    // Idle for a moment more: the device is closed, not half-way through closing.
                    await Task.Delay(500);
                    var before = VideoEdgeStateReader.Read(server.Port);
                    // A frame counts once it was captured after the request (X-Timestamp), not a picture held from before.
                    var requested = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
                    var clock = Stopwatch.StartNew();
                    var part = await HttpProbe.FirstFreshPartAsync(server.Port, "/stream.mjpg", requested, TimeSpan.FromSeconds(15));
                    var ms = clock.Elapsed.TotalMilliseconds;
                    var after = VideoEdgeStateReader.Read(server.Port);
                    if (part is not var (picture, older))
                    {
                        Setup.Log($"  wake {label} rep {rep}: no fresh frame within 15 s");
                        continue;
                    }
                    bool? stamped = source == ServerProcess.Device ? StreamParser.TryReadStamp(picture.AsSpan(0, Math.Min(picture.Length, 256)), out _, out _) : null;
                    long? noSignal = after?.Frames is { } a && before?.Frames is { } b ? a.NoSignal - b.NoSignal : null;
                    Wakes.Add(new WakeMeasurement(label, rep, ms, noSignal, stamped, older));
                    Setup.Log($"  wake {label} rep {rep}: {ms:F0} ms to the first fresh frame ({picture.Length} bytes, {older} older parts before it" +
                        (stamped == false ? ", NOT a camera frame" : "") + (noSignal > 0 ? $", {noSignal} no-signal pictures meanwhile" : "") + ")");
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
            {
                Setup.Log($"  wake {label} failed: {ex.Message}");
            }
        }
    }

    /// <summary>Process start → first complete /snapshot.jpg, for VideoEdge on its test pattern and on the camera, and µStreamer.</summary>
    private async Task StartupAsync(int reps)
    {
        var hd = new CameraSetup("1280x720");
        var cases = new List<(ServerKind Kind, bool TestPattern, string Label)> { (ServerKind.VideoEdge, true, "test pattern") };
        if (options.VideoEdgeSource == "camera")
        {
            cases.Add((ServerKind.VideoEdge, false, "fake camera"));
        }
        cases.Add((ServerKind.UStreamer, false, "fake camera"));
        for (var rep = 1; rep <= reps; rep++)
        {
            foreach (var (kind, testPattern, label) in cases.Where(c => options.Wants(c.Kind)))
            {
                using var server = ServerProcess.Start(kind, hd, paths, options, testPattern);
                var clock = server.SinceStart;
                byte[]? picture = null;
                while (clock.Elapsed < TimeSpan.FromSeconds(20) && picture is null)
                {
                    picture = await HttpProbe.FirstPictureAsync(server.Port, server.SnapshotPath!, TimeSpan.FromSeconds(5));
                    // µStreamer answers with its built-in placeholder until the camera delivers: wait for a camera frame.
                    if (picture is not null && !testPattern && !StreamParser.TryReadStamp(picture.AsSpan(0, Math.Min(picture.Length, 256)), out _, out _))
                    {
                        picture = null;
                    }
                    if (picture is null)
                    {
                        await Task.Delay(2);
                    }
                }
                var ms = clock.Elapsed.TotalMilliseconds;
                if (picture is null)
                {
                    Setup.Log($"  start-up {ServerProcess.Label(kind)} ({label}): no picture within 20 s");
                    continue;
                }
                var rss = ProcSample.Read(server.Pid).RssBytes;
                Startups.Add(new StartupMeasurement(kind, label, rep, ms, rss));
                Setup.Log($"  start-up {ServerProcess.Label(kind)} ({label}) rep {rep}: {ms:F0} ms to the first snapshot ({picture.Length} bytes)");
            }
        }
    }
}
