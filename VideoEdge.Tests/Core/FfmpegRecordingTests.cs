using System.Diagnostics;
using System.Globalization;
using VideoEdge.Tests.Deployment;
using VideoEdge.Tests.Infrastructure;
using Xunit.Abstractions;

namespace VideoEdge.Tests.Core;

/// <summary>
/// The recording recipes in README.md ("Recording with ffmpeg"), run with the real ffmpeg. ffmpeg's
/// MJPEG reader assumes 25 fps, so without -use_wallclock_as_timestamps a 10 fps camera recorded
/// for "6 s" takes 15 s of real time; with it, the file covers the time that really passed.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class FfmpegRecordingTests(ITestOutputHelper output)
{
    private const int Fps = 10;
    private const int Seconds = 6;

    [Theory]
    [InlineData("clip.mkv", "-c:v copy")]
    [InlineData("clip.mp4", "-fps_mode passthrough -c:v libx264 -pix_fmt yuv420p")]
    public async Task The_documented_recipe_records_real_time(string file, string codec)
    {
        await using var server = await EdgeTestServer.StartAsync("--source", "test", "--fps", Fps.ToString(CultureInfo.InvariantCulture), "--resolution", "320x240");
        await server.WaitForFramesAsync(3);
        var dir = Directory.CreateTempSubdirectory("videoedge-recording-");
        try
        {
            var clip = Path.Combine(dir.FullName, file);
            // As documented: ffmpeg -use_wallclock_as_timestamps 1 -i URL -t SECONDS <codec> FILE
            string[] args = ["-hide_banner", "-loglevel", "error", "-y", "-use_wallclock_as_timestamps", "1",
                "-i", server.BaseUrl + "/stream.mjpg", "-t", Seconds.ToString(CultureInfo.InvariantCulture), .. codec.Split(' '), clip];
            var wall = Stopwatch.StartNew();
            var ffmpeg = await Command.RunAsync("ffmpeg", args, timeout: TimeSpan.FromSeconds(120));
            wall.Stop();
            Assert.True(ffmpeg.ExitCode == 0, ffmpeg.ToString());

            var probe = await Command.RunAsync("ffprobe", ["-v", "error", "-count_frames", "-select_streams", "v:0",
                "-show_entries", "format=duration:stream=nb_read_frames", "-of", "default=noprint_wrappers=1", clip]);
            Assert.True(probe.ExitCode == 0, probe.ToString());
            var values = probe.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(l => l.Split('=')).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            var duration = double.Parse(values["duration"], CultureInfo.InvariantCulture);
            var frames = int.Parse(values["nb_read_frames"], CultureInfo.InvariantCulture);
            output.WriteLine($"{file}: {duration:0.00} s, {frames} frames ({frames / duration:0.0} fps) recorded in {wall.Elapsed.TotalSeconds:0.00} s of wall time");

            Assert.InRange(duration, Seconds - 0.5, Seconds + 0.5);
            // The file's frames are the camera's, at the camera's rate (ffmpeg's guess would be 25).
            Assert.InRange(frames / duration, Fps * 0.4, Fps * 1.4);
            // The recorded time passed for real: at least the duration, and ffmpeg's start-up aside,
            // not much more (without the flag, 2.5 times as much).
            Assert.True(wall.Elapsed.TotalSeconds >= duration - 0.5, $"{duration:0.00} s recorded in {wall.Elapsed.TotalSeconds:0.00} s");
            Assert.True(duration / wall.Elapsed.TotalSeconds >= 0.5, $"{duration:0.00} s recorded in {wall.Elapsed.TotalSeconds:0.00} s");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
