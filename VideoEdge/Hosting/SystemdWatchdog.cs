using System.Globalization;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Configuration;

namespace VideoEdge.Hosting;

/// <summary>
/// Tells systemd how the service is doing: STATUS= with a one-line summary every few seconds and,
/// when the unit sets WatchdogSec=, WATCHDOG=1 only while every camera's capture loop makes
/// progress (frames, or the once-a-second no-signal picture while a camera is away). A wedged
/// pipeline therefore stops the pings, and systemd kills and restarts the process.
/// </summary>
public sealed partial class SystemdWatchdog(
    ISystemdNotifier notifier,
    CameraSet cameras,
    EdgeOptions options,
    SystemdWatchdogSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<SystemdWatchdog> logger) : BackgroundService
{
    private static readonly ServiceState Ping = new("WATCHDOG=1");
    private readonly HashSet<string> _stalled = [];

    /// <summary>
    /// How long a camera may produce nothing before it counts as wedged: the watchdog timeout, or
    /// three frame intervals of the slowest camera when frames are rarer than that (--fps 0.1).
    /// </summary>
    public TimeSpan StallLimit => TimeSpan.FromSeconds(Math.Max((settings.Timeout ?? SystemdWatchdogSettings.DefaultStallLimit).TotalSeconds, 3 / cameras.All.Select(c => c.Options.Fps).Append(options.Fps).Min()));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Period);
        try
        {
            // Report from READY=1 on: before it the cameras are still opening, and systemd only
            // arms the watchdog once the service is up.
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
            {
                await started.Task.WaitAsync(stoppingToken);
            }
            do
            {
                Report(Environment.TickCount64);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One round: note stalled cameras, ping the watchdog when none is, send the status line.</summary>
    internal void Report(long nowMillis)
    {
        var limit = (long)StallLimit.TotalMilliseconds;
        foreach (var camera in cameras.All)
        {
            var idle = nowMillis - camera.Stats.LastProgress;
            if (idle > limit)
            {
                if (_stalled.Add(camera.Name))
                {
                    LogStalled(logger, camera.Name, idle / 1000);
                }
            }
            else if (_stalled.Remove(camera.Name))
            {
                LogRecovered(logger, camera.Name);
            }
        }
        if (settings.Timeout is not null && _stalled.Count == 0)
        {
            notifier.Notify(Ping);
        }
        var status = ServiceStatusLine.Describe(cameras, camera => _stalled.Contains(camera.Name)
            ? TimeSpan.FromMilliseconds(nowMillis - camera.Stats.LastProgress)
            : null);
        notifier.Notify(new ServiceState("STATUS=" + status));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Camera {Camera}: the capture pipeline has produced nothing for {Seconds} s; no longer telling the systemd watchdog we are alive, so the service will be restarted")]
    private static partial void LogStalled(ILogger logger, string camera, long seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Camera {Camera}: the capture pipeline is producing again")]
    private static partial void LogRecovered(ILogger logger, string camera);
}

/// <summary>The watchdog systemd set up for us (WatchdogSec= becomes WATCHDOG_USEC), if any.</summary>
public sealed record SystemdWatchdogSettings(TimeSpan? Timeout)
{
    /// <summary>When stalls are reported in STATUS= without a watchdog.</summary>
    public static readonly TimeSpan DefaultStallLimit = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(5);

    /// <summary>Half the timeout, as systemd recommends, but at least every status interval.</summary>
    public TimeSpan Period => Timeout is { } timeout && timeout / 2 < StatusInterval ? timeout / 2 : StatusInterval;

    /// <summary>WATCHDOG_PID, when present, names the process the watchdog is meant for.</summary>
    public static SystemdWatchdogSettings FromEnvironment(Func<string, string?> environment, int processId)
    {
        var forUs = environment("WATCHDOG_PID") is not { } pid || pid == processId.ToString(CultureInfo.InvariantCulture);
        return long.TryParse(environment("WATCHDOG_USEC"), NumberStyles.None, CultureInfo.InvariantCulture, out var usec) && usec > 0 && forUs
            ? new SystemdWatchdogSettings(TimeSpan.FromMicroseconds(usec))
            : new SystemdWatchdogSettings((TimeSpan?)null);
    }
}
