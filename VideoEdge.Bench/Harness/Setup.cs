using System.Diagnostics;

namespace VideoEdge.Bench.Harness;

/// <summary>Brings a fresh machine to a runnable bench: tools from apt, the fake camera, test JPEGs, the AOT binary.</summary>
internal static class Setup
{
    public static void Prepare(BenchPaths paths, BenchOptions options)
    {
        EnsureTool("ustreamer", "ustreamer");
        EnsureTool("ffmpeg", "ffmpeg");
        EnsureTool("rsvg-convert", "librsvg2-bin");
        if (options.Wants("ingest") && options.Wants(ServerKind.VideoEdgeBus))
        {
            EnsureTool("nats-server", "nats-server");
        }
        if (!File.Exists(paths.FakeCamera) || File.GetLastWriteTimeUtc(paths.FakeCamera) < File.GetLastWriteTimeUtc(Path.Combine(paths.Repo, "fakecam", "fakecam.c")))
        {
            Log("building the fake camera");
            Run("make", ["-C", Path.Combine(paths.Repo, "fakecam")]);
        }
        foreach (var resolution in options.AllResolutions)
        {
            EnsureFrames(paths, resolution);
        }
        if (options.VideoEdgeBinary is null && Enum.GetValues<ServerKind>().Any(k => ServerProcess.IsVideoEdgeKind(k) && !BenchOptions.IsBefore(k) && options.Wants(k)))
        {
            PublishVideoEdge(paths);
        }
    }

    /// <summary>
    /// 30 distinct noisy test-card frames per size, 4:2:2 like UVC cameras send, at a quality that
    /// gives webcam-like sizes (1280x720 ≈ 120 KB).
    /// </summary>
    private static void EnsureFrames(BenchPaths paths, string resolution)
    {
        var dir = paths.Frames(resolution);
        if (Directory.Exists(dir) && Directory.GetFiles(dir, "*.jpg").Length == 30)
        {
            return;
        }
        Log($"making test JPEGs {resolution}");
        Directory.CreateDirectory(dir);
        Run("ffmpeg", ["-loglevel", "error", "-y", "-f", "lavfi", "-i", $"testsrc2=size={resolution}:rate=30,noise=alls=12:allf=t",
            "-frames:v", "30", "-q:v", "7", "-pix_fmt", "yuvj422p", Path.Combine(dir, "frame_%03d.jpg")]);
    }

    private static void PublishVideoEdge(BenchPaths paths)
    {
        var sources = Directory.EnumerateFiles(Path.Combine(paths.Repo, "VideoEdge"), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal));
        var newest = sources.Max(File.GetLastWriteTimeUtc);
        if (File.Exists(paths.VideoEdgeBinary) && File.GetLastWriteTimeUtc(paths.VideoEdgeBinary) > newest)
        {
            return;
        }
        Log("publishing VideoEdge (Native AOT, Release) — a minute or two");
        Run("dotnet", ["publish", Path.Combine(paths.Repo, "VideoEdge", "VideoEdge.csproj"), "-c", "Release", "-r", "linux-x64",
            "-o", paths.VideoEdgeDir, "-nologo", "-v", "quiet"]);
    }

    private static void EnsureTool(string command, string package)
    {
        if (Which(command) is not null)
        {
            return;
        }
        Log($"installing {package} (apt)");
        if (Run("apt-get", ["install", "-y", "-q", package], check: false) != 0)
        {
            Run("apt-get", ["update", "-q"]);
            Run("apt-get", ["install", "-y", "-q", package]);
        }
    }

    public static string? Which(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Select(dir => Path.Combine(dir, command)).FirstOrDefault(File.Exists);

    public static int Run(string file, IEnumerable<string> args, bool check = true)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info)!;
        process.WaitForExit();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed with exit code {process.ExitCode}");
        }
        return process.ExitCode;
    }

    public static void Log(string message) => Console.Error.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {message}");
}
