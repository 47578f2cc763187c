using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using VideoEdge.Bench.Native;

namespace VideoEdge.Bench.Harness;

/// <summary>The servers under test. VideoEdge appears twice: once per transport.</summary>
public enum ServerKind { Floor, UStreamer, VideoEdge, VideoEdgeWs }

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
    private readonly Process _process;
    private readonly StreamWriter _log;

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

    public string Transport => Kind == ServerKind.VideoEdgeWs ? "ws" : "mjpeg";

    public string StreamPath => Kind switch
    {
        ServerKind.UStreamer => "/stream",
        ServerKind.Floor => "/stream",
        ServerKind.VideoEdgeWs => "/ws",
        _ => "/stream.mjpg",
    };

    public string? SnapshotPath => Kind switch
    {
        ServerKind.UStreamer => "/snapshot",
        ServerKind.VideoEdge or ServerKind.VideoEdgeWs => "/snapshot.jpg",
        _ => null,
    };

    public bool IsVideoEdge => Kind is ServerKind.VideoEdge or ServerKind.VideoEdgeWs;

    public static string Label(ServerKind kind) => kind switch
    {
        ServerKind.Floor => "floor",
        ServerKind.UStreamer => "µStreamer",
        ServerKind.VideoEdge => "VideoEdge MJPEG",
        _ => "VideoEdge WS",
    };

    /// <summary>Starts <paramref name="kind"/> on <paramref name="camera"/>; <paramref name="testPattern"/> runs VideoEdge without the camera.</summary>
    public static ServerProcess Start(ServerKind kind, CameraSetup camera, BenchPaths paths, BenchOptions options, bool testPattern = false, string host = "127.0.0.1")
    {
        var port = FreePort();
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
            default:
                info = new ProcessStartInfo(options.VideoEdgeBinary ?? paths.VideoEdgeBinary);
                var source = testPattern || options.VideoEdgeSource == "test" ? "test" : Device;
                // Every viewer comes from 127.0.0.1: lift the admission limits meant for real deployments.
                Add(info, "--source", source, "--resolution", camera.Resolution, "--fps", "30", "--listen", $"{host}:{port}",
                    "--max-clients", "1000", "--max-clients-per-ip", "0");
                if (source != "test")
                {
                    Add(info, "--format", camera.Format);
                }
                foreach (var (key, value) in options.VideoEdgeEnvironment)
                {
                    info.Environment[key] = value;
                }
                break;
        }
        info.UseShellExecute = false;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        if (!(testPattern && kind is ServerKind.VideoEdge or ServerKind.VideoEdgeWs))
        {
            AddFakeCamera(info, camera, paths);
        }
        var log = new StreamWriter(Path.Combine(paths.Logs, $"{kind}-{camera.Resolution}-{camera.Format}.log"), append: true) { AutoFlush = true };
        log.WriteLine($"=== {DateTime.Now:O} {info.FileName} {string.Join(' ', info.ArgumentList)}");
        var process = new Process { StartInfo = info };
        var server = new ServerProcess(kind, process, port, log);
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server.SinceStart.Start();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
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

    /// <summary>Waits until the server streams: a first complete picture on its stream (or snapshot).</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Kind} exited with code {_process.ExitCode}; see {Path.GetFileName(((FileStream)_log.BaseStream).Name)} in the logs folder");
            }
            if (await HttpProbe.FirstPictureAsync(Port, SnapshotPath ?? StreamPath, TimeSpan.FromSeconds(2)) is not null)
            {
                return;
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{Kind} did not serve a picture within {timeout.TotalSeconds} s");
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Libc.Kill(_process.Id, Libc.SIGTERM);
            if (!_process.WaitForExit(3000))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        _process.WaitForExit();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
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
