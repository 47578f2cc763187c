using VideoEdge.Cameras;

namespace VideoEdge.Hosting;

/// <summary>
/// Starts every camera's capture thread before the listener binds, and stops them after the last
/// viewer stream has ended. Start completes when each source has opened or begun retrying, which is
/// when systemd may be told we are ready.
/// </summary>
public sealed class CameraService(CameraSet cameras) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var camera in cameras.All)
        {
            camera.Start();
        }
        await Task.WhenAll(cameras.All.Select(c => c.Capture.Started)).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        cameras.Dispose();
        return Task.CompletedTask;
    }
}
