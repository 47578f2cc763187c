using System.Globalization;
using System.Text.RegularExpressions;
using VideoEdge.Configuration;
using VideoEdge.Tests.Fakes;

namespace VideoEdge.Tests.Deployment;

/// <summary>edge.service and packaging/video-edge.default, checked the way systemd and the program read them.</summary>
public sealed partial class ServiceUnitTests : IDisposable
{
    private static readonly string Packaging = Path.Combine(PublishedBuild.RepositoryRoot, "packaging");
    private readonly string _dir = FakeCamera.NewTempDirectory("videoedge-unit");

    [Fact]
    public async Task Systemd_analyze_verify_finds_nothing_to_complain_about()
    {
        var unit = UnitWithExistingBinary();
        var result = await Command.RunAsync("systemd-analyze", ["verify", unit]);
        Assert.True(result.ExitCode == 0 && result.Output.Trim().Length == 0, result.ToString());
    }

    [Fact]
    public async Task Exposure_is_at_most_2_0()
    {
        var result = await Command.RunAsync("systemd-analyze", ["security", "--offline=true", UnitWithExistingBinary()]);
        var match = OverallExposure().Match(result.Output);
        Assert.True(match.Success, result.ToString());
        var exposure = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(exposure <= 2.0, $"exposure {exposure}:\n{result.Output}");
    }

    [Fact]
    public void The_unit_runs_the_installed_binary_unprivileged_with_notify_and_watchdog_and_video_devices_only()
    {
        var settings = File.ReadAllLines(Path.Combine(PublishedBuild.RepositoryRoot, "edge.service"))
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith('[') && l.Contains('='))
            .Select(l => (Key: l[..l.IndexOf('=')], Value: l[(l.IndexOf('=') + 1)..]))
            .ToLookup(s => s.Key, s => s.Value);

        Assert.Equal(["/opt/video-edge/video-edge"], settings["ExecStart"]);
        Assert.Equal(["-/etc/default/video-edge"], settings["EnvironmentFile"]);
        Assert.Equal(["notify"], settings["Type"]);
        Assert.Single(settings["WatchdogSec"]);
        Assert.Equal(["on-failure"], settings["Restart"]);
        Assert.Equal(["yes"], settings["DynamicUser"]);
        Assert.Equal(["video"], settings["SupplementaryGroups"]);
        Assert.Equal(["closed"], settings["DevicePolicy"]);
        // V4L2 cameras, plus what libcamera opens for the Raspberry Pi Camera Module.
        Assert.Equal(["char-video4linux rw", "char-media rw", "char-dma_heap rw"], settings["DeviceAllow"]);
        Assert.Equal(["video-edge"], settings["RuntimeDirectory"]);
    }

    [Fact]
    public void The_settings_file_names_only_real_settings_and_its_examples_are_accepted()
    {
        var known = OptionsParser.Specs.Select(s => s.EnvironmentVariable).ToHashSet();
        var examples = new Dictionary<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(Packaging, "video-edge.default")))
        {
            if (Assignment().Match(line) is not { Success: true } m)
            {
                continue;
            }
            Assert.Contains(m.Groups[1].Value, known);
            // As systemd reads an EnvironmentFile: quotes removed, a later line wins.
            examples[m.Groups[1].Value] = m.Groups[2].Value.Trim('"');
        }
        Assert.Contains("VIDEOEDGE_SOURCE", examples.Keys);
        Assert.Contains("VIDEOEDGE_LISTEN", examples.Keys);

        var (options, error) = OptionsParser.Parse([], name => examples.GetValueOrDefault(name));
        Assert.True(options is not null, error);
    }

    /// <summary>A copy whose ExecStart names a binary that exists here (verify checks it is executable).</summary>
    private string UnitWithExistingBinary()
    {
        var text = File.ReadAllText(Path.Combine(PublishedBuild.RepositoryRoot, "edge.service"));
        Assert.Contains("ExecStart=/opt/video-edge/video-edge\n", text);
        var path = Path.Combine(_dir, "video-edge.service");
        File.WriteAllText(path, text.Replace("ExecStart=/opt/video-edge/video-edge\n", $"ExecStart={Path.Combine(AppContext.BaseDirectory, "video-edge")}\n", StringComparison.Ordinal));
        return path;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [GeneratedRegex(@"Overall exposure level for video-edge\.service: (\d+\.\d+)")]
    private static partial Regex OverallExposure();

    [GeneratedRegex(@"^#?(VIDEOEDGE_[A-Z_]+)=(.*)$")]
    private static partial Regex Assignment();
}
