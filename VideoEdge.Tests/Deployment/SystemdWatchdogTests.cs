using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Abstractions;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Hosting;

namespace VideoEdge.Tests.Deployment;

/// <summary>When the watchdog is pinged and what the status line says, with real cameras and a recording notifier.</summary>
public sealed class SystemdWatchdogTests : IDisposable
{
    private readonly EdgeOptions _options = new();
    private readonly RecordingNotifier _notifier = new();
    private readonly List<Camera> _cameras = [];

    [Fact]
    public async Task Pings_only_while_every_camera_makes_progress()
    {
        var front = AddCamera("front");
        var back = AddCamera("back");
        var watchdog = CreateWatchdog(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.FromSeconds(1), watchdog.StallLimit);

        watchdog.Report(Environment.TickCount64);
        Assert.Equal(1, _notifier.Count("WATCHDOG=1"));

        // "back" produces nothing for longer than the limit while "front" keeps going.
        await Task.Delay(1500);
        front.Stats.MarkProgress();
        watchdog.Report(Environment.TickCount64);
        Assert.Equal(1, _notifier.Count("WATCHDOG=1"));
        Assert.Matches(@"^STATUS=front: offline \(starting\), 0 viewers; back: stalled, nothing captured for \d+ s, 0 viewers$", _notifier.Last("STATUS="));

        back.Stats.MarkProgress();
        front.Stats.MarkProgress();
        watchdog.Report(Environment.TickCount64);
        Assert.Equal(2, _notifier.Count("WATCHDOG=1"));
        Assert.DoesNotContain("stalled", _notifier.Last("STATUS="));
    }

    [Fact]
    public async Task A_camera_switched_off_on_demand_keeps_the_watchdog_fed()
    {
        _options.OnDemand = TimeSpan.FromSeconds(0.5);
        var front = AddCamera("front");
        var back = AddCamera("back");
        front.Start();
        back.Start();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (front.Capture.State != Sources.CaptureState.Idle || back.Capture.State != Sources.CaptureState.Idle)
        {
            Assert.True(DateTime.UtcNow < deadline, $"not idle: {front.Capture.State}, {back.Capture.State}");
            await Task.Delay(50);
        }
        var watchdog = CreateWatchdog(TimeSpan.FromSeconds(1));
        // Three times the stall limit while nothing is captured: every round still pings.
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(500);
            watchdog.Report(Environment.TickCount64);
        }
        Assert.Equal(6, _notifier.Count("WATCHDOG=1"));
        Assert.Equal("STATUS=front: idle (switched off on demand), 0 viewers; back: idle (switched off on demand), 0 viewers", _notifier.Last("STATUS="));
    }

    [Fact]
    public void Without_WatchdogSec_only_the_status_is_sent()
    {
        var camera = AddCamera("main");
        var watchdog = CreateWatchdog(null);
        watchdog.Report(camera.Stats.LastProgress);
        Assert.Equal(0, _notifier.Count("WATCHDOG=1"));
        Assert.Equal("STATUS=main: offline (starting), 0 viewers", _notifier.Last("STATUS="));
    }

    [Fact]
    public void A_slow_frame_rate_gets_three_frame_intervals_before_it_counts_as_stalled()
    {
        _options.Fps = 0.1;
        Assert.Equal(TimeSpan.FromSeconds(30), CreateWatchdog(TimeSpan.FromSeconds(2)).StallLimit);
    }

    [Fact]
    public async Task The_status_names_the_source_its_size_rate_and_viewers()
    {
        var camera = AddCamera("main");
        camera.Start();
        await camera.Capture.Started.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.Delay(500);
        CreateWatchdog(TimeSpan.FromSeconds(2)).Report(Environment.TickCount64);
        Assert.Matches(@"^STATUS=main: test pattern 640x480 at \d+\.\d fps, 0 viewers$", _notifier.Last("STATUS="));
        Assert.Equal(1, _notifier.Count("WATCHDOG=1"));
    }

    [Theory]
    [InlineData("30000000", null, 30.0, 5.0)]
    [InlineData("2000000", null, 2.0, 1.0)]
    [InlineData("2000000", "4242", 2.0, 1.0)]
    [InlineData("2000000", "1", null, 5.0)]
    [InlineData(null, null, null, 5.0)]
    [InlineData("junk", null, null, 5.0)]
    public void Settings_follow_WATCHDOG_USEC_for_this_process_only(string? usec, string? pid, double? timeoutSeconds, double periodSeconds)
    {
        var environment = new Dictionary<string, string?> { ["WATCHDOG_USEC"] = usec, ["WATCHDOG_PID"] = pid };
        var settings = SystemdWatchdogSettings.FromEnvironment(name => environment.GetValueOrDefault(name), processId: 4242);
        Assert.Equal(timeoutSeconds, settings.Timeout?.TotalSeconds);
        Assert.Equal(periodSeconds, settings.Period.TotalSeconds);
    }

    private Camera AddCamera(string name)
    {
        var camera = new Camera(name, SourceSpec.Test, _options, NullLoggerFactory.Instance);
        _cameras.Add(camera);
        return camera;
    }

    private SystemdWatchdog CreateWatchdog(TimeSpan? timeout) => new(
        _notifier,
        new CameraSet(_cameras),
        _options,
        new SystemdWatchdogSettings(timeout),
        new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance),
        NullLogger<SystemdWatchdog>.Instance);

    public void Dispose()
    {
        foreach (var camera in _cameras)
        {
            camera.Dispose();
        }
    }

    private sealed class RecordingNotifier : ISystemdNotifier
    {
        private readonly List<string> _messages = [];

        public bool IsEnabled => true;

        public void Notify(ServiceState state) => _messages.Add(state.ToString());

        public int Count(string message) => _messages.Count(m => m == message);

        public string Last(string prefix) => _messages.Last(m => m.StartsWith(prefix, StringComparison.Ordinal));
    }
}
