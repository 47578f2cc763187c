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
        // A source whose open hangs (a network stream that never answers) must not keep the server
        // from serving the others: after a while, start anyway; that camera shows as offline.
        var started = Task.WhenAll(cameras.All.Select(c => c.Capture.Started));
        await Task.WhenAny(started, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        cameras.Dispose();
        return Task.CompletedTask;
    }
}
