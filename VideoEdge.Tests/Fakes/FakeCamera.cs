using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace VideoEdge.Tests.Fakes;

/// <summary>
/// How the fake UVC camera (fakecam/libfakecam.so, loaded with LD_PRELOAD) should behave in a
/// child process. Null/false members leave the shim's defaults (see fakecam/README.md).
/// Use <c>with</c> to derive variants.
/// </summary>
public sealed record FakeCameraOptions
{
    public string DevicePath { get; init; } = "/dev/video0";

    /// <summary>"mjpeg" and/or "yuyv", in ENUM_FMT order.</summary>
    public IReadOnlyList<string>? Formats { get; init; }

    /// <summary>JPEG files served in a loop as MJPEG frames (the first one's size is the MJPEG size).</summary>
    public IReadOnlyList<string>? JpegFiles { get; init; }

    /// <summary>A directory whose *.jpg files (sorted by name) are served; ignored when <see cref="JpegFiles"/> is set.</summary>
    public string? JpegDirectory { get; init; }

    public IReadOnlyList<(int Width, int Height)>? YuyvSizes { get; init; }
    public IReadOnlyList<double>? Fps { get; init; }
    public int? UnplugAfterFrames { get; init; }
    public double? ReplugAfterSeconds { get; init; }
    public bool UnplugRepeat { get; init; }
    public bool Stamp { get; init; }
    public string? Card { get; init; }
    public bool Busy { get; init; }
    public bool Log { get; init; }
    /// <summary>While this file exists the device is absent (an unplug between two opens).</summary>
    public string? UnplugFile { get; init; }

    public FakeCameraOptions WithJpegs(IEnumerable<string> files) => this with { JpegFiles = [.. files] };
    public FakeCameraOptions WithFps(params double[] fps) => this with { Fps = fps };
    public FakeCameraOptions WithFormats(params string[] formats) => this with { Formats = formats };

    /// <summary>The variables to add to the child's environment, LD_PRELOAD included.</summary>
    public IReadOnlyDictionary<string, string> Environment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["LD_PRELOAD"] = FakeCamera.LibraryPath,
            ["FAKECAM_DEVICE"] = DevicePath,
        };
        var inv = CultureInfo.InvariantCulture;
        if (Formats is not null) env["FAKECAM_FORMATS"] = string.Join(',', Formats);
        if (JpegFiles is not null) env["FAKECAM_JPEGS"] = string.Join(':', JpegFiles);
        else if (JpegDirectory is not null) env["FAKECAM_JPEGS"] = JpegDirectory;
        if (YuyvSizes is not null) env["FAKECAM_SIZES"] = string.Join(',', YuyvSizes.Select(s => $"{s.Width}x{s.Height}"));
        if (Fps is not null) env["FAKECAM_FPS"] = string.Join(',', Fps.Select(f => f.ToString(inv)));
        if (UnplugAfterFrames is { } u) env["FAKECAM_UNPLUG_AFTER"] = u.ToString(inv);
        if (ReplugAfterSeconds is { } r) env["FAKECAM_REPLUG_AFTER"] = r.ToString(inv);
        if (UnplugRepeat) env["FAKECAM_UNPLUG_REPEAT"] = "1";
        if (Stamp) env["FAKECAM_STAMP"] = "1";
        if (Card is not null) env["FAKECAM_CARD"] = Card;
        if (Busy) env["FAKECAM_BUSY"] = "1";
        if (Log) env["FAKECAM_LOG"] = "1";
        if (UnplugFile is not null) env["FAKECAM_UNPLUG_FILE"] = UnplugFile;
        return env;
    }

    /// <summary>Copies <see cref="Environment"/> into a start info (removing inherited FAKECAM_* first).</summary>
    public void ApplyTo(ProcessStartInfo psi)
    {
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("FAKECAM_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        foreach (var (k, v) in Environment())
            psi.Environment[k] = v;
    }
}

/// <summary>Exit code and captured output of a child process.</summary>
public sealed record ProcessOutput(int ExitCode, string StdOut, string StdErr, TimeSpan Elapsed)
{
    public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1}s\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
}

public static class FakeCamera
{
    private static readonly Lazy<string> Library = new(() => Build("fakecam.c", "libfakecam.so", "-shared -fPIC -pthread -ldl"),
        LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The shim, compiled from fakecam/fakecam.c on first use (cached by content hash).</summary>
    public static string LibraryPath => Library.Value;

    /// <summary>The repository's fakecam/ directory.</summary>
    public static string SourceDirectory { get; } = FindSourceDirectory();

    /// <summary>
    /// Compiles a C file with gcc -O2 -Wall -Wextra plus <paramref name="flags"/> into a cache
    /// directory keyed by the source, the flags and the output name, and returns the output path.
    /// Safe to call concurrently, also from several test processes: the result is renamed into place.
    /// </summary>
    public static string CompileC(string sourcePath, string outputName, string flags)
    {
        var source = File.ReadAllBytes(sourcePath);
        var key = SHA256.HashData([.. source, .. Encoding.UTF8.GetBytes("\n" + flags + "\n" + outputName)]);
        var dir = Path.Combine(Path.GetTempPath(), "videoedge-fakecam", Convert.ToHexString(key)[..16].ToLowerInvariant());
        var output = Path.Combine(dir, outputName);
        if (File.Exists(output))
            return output;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{outputName}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        List<string> args = ["-O2", "-Wall", "-Wextra", "-o", temp, sourcePath,
            .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        var result = Run("gcc", args, env: null, TimeSpan.FromMinutes(2));
        if (result.ExitCode != 0 || !File.Exists(temp))
            throw new InvalidOperationException($"gcc {string.Join(' ', args)} failed:\n{result}");
        File.Move(temp, output, overwrite: true);
        return output;
    }

    /// <summary>Runs a program with the fake camera preloaded.</summary>
    public static Task<ProcessOutput> RunAsync(string fileName, IEnumerable<string> args, FakeCameraOptions camera,
        TimeSpan? timeout = null, string? workingDirectory = null) =>
        Task.Run(() => Run(fileName, args, camera.Environment(), timeout ?? TimeSpan.FromSeconds(60), workingDirectory));

    /// <summary>
    /// Writes <paramref name="count"/> ffmpeg testsrc frames as dir/f001.jpg... and returns their paths in order.
    /// </summary>
    public static IReadOnlyList<string> MakeTestJpegs(string directory, int width, int height, int count)
    {
        Directory.CreateDirectory(directory);
        var result = Run("ffmpeg",
            ["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", $"testsrc=size={width}x{height}:rate=1",
             "-frames:v", count.ToString(CultureInfo.InvariantCulture), "-q:v", "5", Path.Combine(directory, "f%03d.jpg")],
            env: null, TimeSpan.FromMinutes(1));
        var files = Enumerable.Range(1, count).Select(i => Path.Combine(directory, $"f{i:D3}.jpg")).ToList();
        if (result.ExitCode != 0 || !files.All(File.Exists))
            throw new InvalidOperationException($"ffmpeg could not make test JPEGs:\n{result}");
        return files;
    }

    /// <summary>A fresh directory under the temp dir; the caller deletes it.</summary>
    public static string NewTempDirectory(string prefix = "fakecam")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// The JPEG without its DHT segments, as many UVC cameras send MJPEG (decoders then use the
    /// standard tables of ITU-T T.81 Annex K). Everything from SOS on is copied unchanged.
    /// </summary>
    public static byte[] StripDht(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)
            throw new ArgumentException("not a JPEG (no SOI)", nameof(jpeg));
        var output = new List<byte>(jpeg.Length) { 0xFF, 0xD8 };
        var i = 2;
        while (i + 4 <= jpeg.Length)
        {
            if (jpeg[i] != 0xFF)
                throw new ArgumentException($"no marker at offset {i}", nameof(jpeg));
            var marker = jpeg[i + 1];
            if (marker == 0xFF) { i++; continue; } // fill byte
            if (marker == 0xDA || marker == 0xD9)
                break;
            var length = (jpeg[i + 2] << 8) | jpeg[i + 3];
            if (i + 2 + length > jpeg.Length)
                throw new ArgumentException("truncated segment", nameof(jpeg));
            if (marker != 0xC4)
                output.AddRange(jpeg.Slice(i, 2 + length));
            i += 2 + length;
        }
        output.AddRange(jpeg[i..]);
        return [.. output];
    }

    /// <summary>Writes DHT-less copies of <paramref name="files"/> into <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> StripDhtFiles(IEnumerable<string> files, string directory)
    {
        Directory.CreateDirectory(directory);
        return files.Select(f =>
        {
            var target = Path.Combine(directory, Path.GetFileName(f));
            File.WriteAllBytes(target, StripDht(File.ReadAllBytes(f)));
            return target;
        }).ToList();
    }

    /// <summary>True if the JPEG has at least one DHT segment before its scan.</summary>
    public static bool HasDht(ReadOnlySpan<byte> jpeg)
    {
        var i = 2;
        while (i + 4 <= jpeg.Length && jpeg[i] == 0xFF)
        {
            var marker = jpeg[i + 1];
            if (marker == 0xC4) return true;
            if (marker == 0xDA || marker == 0xD9) return false;
            i += 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
        }
        return false;
    }

    private static string Build(string source, string output, string flags) =>
        CompileC(Path.Combine(SourceDirectory, source), output, flags);

    private static string FindSourceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "fakecam");
            if (File.Exists(Path.Combine(candidate, "fakecam.c")))
                return candidate;
        }
        throw new InvalidOperationException($"fakecam/fakecam.c not found above {AppContext.BaseDirectory}");
    }

    private static ProcessOutput Run(string fileName, IEnumerable<string> args, IReadOnlyDictionary<string, string>? env,
        TimeSpan timeout, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("FAKECAM_", StringComparison.Ordinal)).ToList())
            psi.Environment.Remove(key);
        if (env is not null)
            foreach (var (k, v) in env)
                psi.Environment[k] = v;
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {fileName}");
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return new ProcessOutput(-1, stdout.Result, stderr.Result + $"\n[killed after {timeout}]", sw.Elapsed);
        }
        p.WaitForExit();
        return new ProcessOutput(p.ExitCode, stdout.Result, stderr.Result, sw.Elapsed);
    }
}
