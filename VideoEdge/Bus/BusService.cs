using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Sources;

namespace VideoEdge.Bus;

/// <summary>--publish-to-bus: a hub that is also a producer publishes each of its own cameras (not its bus ones).</summary>
public sealed class BusService(CameraSet cameras, EdgeOptions options, ILoggerFactory loggerFactory) : IHostedService
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private BusConnection? _bus;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _bus = BusConnection.Acquire(options, loggerFactory);
        var logger = loggerFactory.CreateLogger("VideoEdge.Bus");
        foreach (var camera in cameras.All.Where(c => c.Source.Kind != SourceFactory.BusKind))
        {
            _running.Add(new BusPublisher(camera, _bus, logger).RunAsync(_stop.Token));
        }
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_running).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _bus?.Release();
    }
}
