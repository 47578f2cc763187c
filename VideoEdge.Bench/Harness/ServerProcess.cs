using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VideoEdge.Bench.Load;
using VideoEdge.Interop;

namespace VideoEdge.Bench.Harness;

/// <summary>
/// The servers under test. VideoEdge appears once per transport, and (WebSocket viewers) once per
/// way frames reach it from another process: pushed to /cams/NAME/ingest, or over a NATS bus.
/// The "before" kinds are VideoEdge and VideoEdgeWs run from --baseline-binary (an older build), so a
/// change's before and after come from one run (appended: results.json stores the kind as a number).
/// </summary>
public enum ServerKind { Floor, UStreamer, VideoEdge, VideoEdgeWs, VideoEdgeIngest, VideoEdgeBus, VideoEdgeBefore, VideoEdgeWsBefore }

/// <summary>What the camera delivers in a scenario.</summary>
public sealed record CameraSetup(string Resolution, string Format = "mjpeg")
{
    public int Width => int.Parse(Resolution.Split('x')[0]);
    public int Height => int.Parse(Resolution.Split('x')[1]);
}

/// <summary>One server under test as a child process on the fake camera, with its log in the work folder.</summary>
internal sealed class ServerProcess : IDisposable
{
    public const string Device = "/dev/video0";
    /// <summary>The producer's camera name on the hub (--camera NAME=remote or NAME=bus).</summary>
    public const string RemoteCamera = "cam";
    private const string IngestToken = "bench-ingest-token";
    private readonly Process _process;
    private readonly StreamWriter _log;
    /// <summary>Processes that feed the server (nats-server, a producer), stopped with it, last started first.</summary>
    private readonly List<Process> _companions = [];

    private ServerProcess(ServerKind kind, Process process, int port, StreamWriter log)
    {
        Kind = kind;
        _process = process;
        Port = port;
        _log = log;
    }

    public ServerKind Kind { get; }
    public int Port { get; }
    public int Pid => _process.Id;
    public Stopwatch SinceStart { get; } = new();

    public string Transport => Kind is ServerKind.VideoEdgeWs or ServerKind.VideoEdgeWsBefore or ServerKind.VideoEdgeIngest or ServerKind.VideoEdgeBus ? "ws" : "mjpeg";

    public string StreamPath => Kind switch
    {
        ServerKind.UStreamer => "/stream",
        ServerKind.Floor => "/stream",
        ServerKind.VideoEdgeWs or ServerKind.VideoEdgeWsBefore or ServerKind.VideoEdgeIngest or ServerKind.VideoEdgeBus => "/ws",
        _ => "/stream.mjpg",
    };

    public string? SnapshotPath => Kind switch
    {
        ServerKind.UStreamer => "/snapshot",
        ServerKind.Floor => null,
        _ => "/snapshot.jpg",
    };

    public bool IsVideoEdge => IsVideoEdgeKind(Kind);

    /// <summary>Frames come from a producer process: the server shows no-signal until its first frame arrives.</summary>
    public bool IsFedByProducer => Kind is ServerKind.VideoEdgeIngest or ServerKind.VideoEdgeBus;

    public static bool IsVideoEdgeKind(ServerKind kind) => kind is not (ServerKind.Floor or ServerKind.UStreamer);

    public static string Label(ServerKind kind) => kind switch
    {
        ServerKind.Floor => "floor",
        ServerKind.UStreamer => "µStreamer",
        ServerKind.VideoEdge => "VideoEdge MJPEG",
        ServerKind.VideoEdgeIngest => "VideoEdge WS, ingest",
        ServerKind.VideoEdgeBus => "VideoEdge WS, NATS",
        ServerKind.VideoEdgeBefore => "VideoEdge MJPEG (before)",
        ServerKind.VideoEdgeWsBefore => "VideoEdge WS (before)",
        _ => "VideoEdge WS",
    };

    /// <summary>
    /// Starts <paramref name="kind"/> on <paramref name="camera"/>; <paramref name="testPattern"/> runs VideoEdge without the camera;
    /// <paramref name="source"/> and <paramref name="extra"/> replace VideoEdge's source and add arguments (the on-demand wake-up).
    /// The ingest kinds start a `video-edge push` producer on the fake camera (and for the bus a nats-server) beside the hub:
    /// only the hub's CPU is measured.
    /// </summary>
    public static ServerProcess Start(ServerKind kind, CameraSetup camera, BenchPaths paths, BenchOptions options, bool testPattern = false,
        string? source = null, string[]? extra = null, string host = "127.0.0.1")
    {
        var port = FreePort();
        var binary = kind is ServerKind.VideoEdgeBefore or ServerKind.VideoEdgeWsBefore
            ? options.BaselineBinary ?? throw new InvalidOperationException($"{kind} needs --baseline-binary")
            : options.VideoEdgeBinary ?? paths.VideoEdgeBinary;
        var companions = new List<ProcessStartInfo>();
        var natsPort = kind == ServerKind.VideoEdgeBus ? FreePort() : 0;
        ProcessStartInfo info;
        switch (kind)
        {
            case ServerKind.Floor:
            {
                var (file, prefix) = BenchPaths.Self();
                info = new ProcessStartInfo(file);
                foreach (var a in prefix)
                {
                    info.ArgumentList.Add(a);
                }
                Add(info, "floor", "--device", Device, "--resolution", camera.Resolution, "--port", port.ToString());
                info.Environment["DOTNET_TieredPGO"] = "1";
                break;
            }
            case ServerKind.UStreamer:
                info = new ProcessStartInfo("ustreamer");
                Add(info, "--device", Device, "--resolution", camera.Resolution, "--host", host, "--port", port.ToString());
                if (camera.Format == "mjpeg")
                {
                    Add(info, "--format", "MJPEG", "--encoder", "HW");
                }
                else
                {
                    Add(info, "--format", "YUYV", "--encoder", "CPU", "--quality", "80");
                }
                break;
            case ServerKind.VideoEdgeIngest or ServerKind.VideoEdgeBus:
            {
                info = new ProcessStartInfo(binary);
                AddVideoEdgeListener(info, port, options);
                Add(info, "--camera", $"{RemoteCamera}={(kind == ServerKind.VideoEdgeIngest ? "remote" : "bus")}", "--resolution", camera.Resolution);
                var to = kind == ServerKind.VideoEdgeIngest ? $"ws://127.0.0.1:{port}/cams/{RemoteCamera}/ingest" : $"nats://127.0.0.1:{natsPort}/{RemoteCamera}";
                if (kind == ServerKind.VideoEdgeIngest)
                {
                    Add(info, "--ingest-token", IngestToken);
                }
                else
                {
                    Add(info, "--bus", $"nats://127.0.0.1:{natsPort}");
                    var nats = new ProcessStartInfo("nats-server");
                    Add(nats, "-a", "127.0.0.1", "-p", natsPort.ToString());
                    companions.Add(nats);
                }
                // The producer: the same binary on the fake camera, MJPEG passed through, as `video-edge push` runs on a second board.
                var producer = new ProcessStartInfo(binary);
                Add(producer, "push", "--source", Device, "--format", camera.Format, "--resolution", camera.Resolution, "--fps", "30", "--to", to);
                if (kind == ServerKind.VideoEdgeIngest)
                {
                    producer.Environment["VIDEOEDGE_TOKEN"] = IngestToken;
                }
                AddFakeCamera(producer, camera, paths);
                companions.Add(producer);
                break;
            }
            default:
                info = new ProcessStartInfo(binary);
                var videoEdgeSource = source ?? (testPattern || options.VideoEdgeSource == "test" ? "test" : Device);
                Add(info, "--source", videoEdgeSource, "--resolution", camera.Resolution, "--fps", "30");
                AddVideoEdgeListener(info, port, options, host);
                if (videoEdgeSource == Device)
                {
                    Add(info, "--format", camera.Format);
                }
                break;
        }
        foreach (var a in extra ?? [])
        {
            info.ArgumentList.Add(a);
        }
        if (!(testPattern && IsVideoEdgeKind(kind) || kind is ServerKind.VideoEdgeIngest or ServerKind.VideoEdgeBus))
        {
            AddFakeCamera(info, camera, paths);
        }
        var log = new StreamWriter(Path.Combine(paths.Logs, $"{kind}-{camera.Resolution}-{camera.Format}.log"), append: true) { AutoFlush = true };
        var process = new Process { StartInfo = info };
        var server = new ServerProcess(kind, process, port, log);
        try
        {
            // nats-server before the hub (so the hub connects at once), the producer after it.
            if (kind == ServerKind.VideoEdgeBus)
            {
                server.StartCompanion(companions[0]);
                WaitForPort(natsPort, TimeSpan.FromSeconds(10));
            }
            server.SinceStart.Start();
            server.StartChild(process, "server");
            foreach (var companion in companions.Where(c => c.FileName == binary))
            {
                server.StartCompanion(companion);
            }
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    private static void AddVideoEdgeListener(ProcessStartInfo info, int port, BenchOptions options, string host = "127.0.0.1")
    {
        // Every viewer comes from one address: lift the admission limits meant for real deployments.
        Add(info, "--listen", $"{host}:{port}", "--max-clients", "1000", "--max-clients-per-ip", "0");
        foreach (var (key, value) in options.VideoEdgeEnvironment)
        {
            info.Environment[key] = value;
        }
    }

    private void StartCompanion(ProcessStartInfo info)
    {
        var process = new Process { StartInfo = info };
        _companions.Add(process);
        StartChild(process, Path.GetFileName(info.FileName) + (info.ArgumentList.FirstOrDefault() == "push" ? " push" : ""));
    }

    /// <summary>Starts a child with its output in the server's log, each line tagged with <paramref name="tag"/>.</summary>
    private void StartChild(Process process, string tag)
    {
        var info = process.StartInfo;
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        OnLine($"=== {DateTime.Now:O} {info.FileName} {string.Join(' ', info.ArgumentList)}");
        process.OutputDataReceived += (_, e) => OnLine(e.Data is null ? null : $"[{tag}] {e.Data}");
        process.ErrorDataReceived += (_, e) => OnLine(e.Data is null ? null : $"[{tag}] {e.Data}");
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    private static void WaitForPort(int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (clock.Elapsed < timeout)
            {
                Thread.Sleep(50);
            }
        }
    }

    private static void AddFakeCamera(ProcessStartInfo info, CameraSetup camera, BenchPaths paths)
    {
        info.Environment["LD_PRELOAD"] = paths.FakeCamera;
        info.Environment["FAKECAM_DEVICE"] = Device;
        info.Environment["FAKECAM_FPS"] = "30";
        info.Environment["FAKECAM_STAMP"] = "1";
        if (camera.Format == "mjpeg")
        {
            info.Environment["FAKECAM_FORMATS"] = "mjpeg";
            info.Environment["FAKECAM_JPEGS"] = paths.Frames(camera.Resolution);
        }
        else
        {
            info.Environment["FAKECAM_FORMATS"] = "yuyv";
            info.Environment["FAKECAM_SIZES"] = camera.Resolution;
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_log)
        {
            _log.WriteLine(line);
        }
    }

    /// <summary>
    /// Waits until the server streams: a first complete picture on its stream (or snapshot); when a
    /// producer feeds it, a picture from the camera (with the fake camera's stamp), not the no-signal one.
    /// </summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            foreach (var p in _companions.Prepend(_process).Where(p => p.HasExited))
            {
                throw new InvalidOperationException($"{Kind}: {Path.GetFileName(p.StartInfo.FileName)} exited with code {p.ExitCode}; see {Path.GetFileName(((FileStream)_log.BaseStream).Name)} in the logs folder");
            }
            if (await HttpProbe.FirstPictureAsync(Port, SnapshotPath ?? StreamPath, TimeSpan.FromSeconds(2)) is { } picture
                && (!IsFedByProducer || StreamParser.TryReadStamp(picture.AsSpan(0, Math.Min(picture.Length, 256)), out _, out _)))
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{Kind} did not serve a picture within {timeout.TotalSeconds} s");
    }

    public void Dispose()
    {
        // The producer first (it would otherwise log the hub going away), then the hub, then the bus.
        var companions = _companions.Where(c => c.StartInfo.ArgumentList.FirstOrDefault() == "push").ToList();
        foreach (var p in companions)
        {
            Stop(p);
        }
        Stop(_process);
        foreach (var p in _companions.Except(companions))
        {
            Stop(p);
        }
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private static void Stop(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                Libc.Kill(process.Id, Libc.SIGTERM);
                if (!process.WaitForExit(3000))
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Never started (a companion that failed to start).
        }
        process.Dispose();
    }

    private static void Add(ProcessStartInfo info, params string[] args)
    {
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
