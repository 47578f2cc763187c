using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Configuration;

namespace VideoEdge.Bus;

/// <summary>`video-edge push --to nats://HOST:PORT/NAME`: the producer publishes on the bus instead of to one hub.</summary>
public static class BusPush
{
    /// <summary>NAME from nats://HOST:PORT/NAME, or null when the path is not one camera name.</summary>
    public static string? CameraName(Uri to) =>
        to.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries) is [var name] && CameraNames.IsValid(name) ? name : null;

    /// <summary>Takes the bus from --to (first) and any --bus cluster URLs into the camera's bus settings; a problem for the user, or null.</summary>
    public static string? Configure(Uri to, EdgeOptions options)
    {
        if (CameraName(to) is null)
        {
            return $"--to {to}: expected nats://HOST:PORT/NAME with NAME matching [a-z0-9_-]{{1,32}} (the hubs' --camera NAME=bus)";
        }
        if (to.UserInfo.Length > 0)
        {
            return "--to: no credentials in the URL (they would show in the process list); use --bus-token-file, --bus-user with --bus-password-file, --bus-creds-file or --bus-nkey-file";
        }
        var server = to.GetLeftPart(UriPartial.Authority);
        options.BusUrls = options.BusUrls is { } more ? server + "," + more : server;
        return null;
    }

    public static async Task RunAsync(Camera camera, EdgeOptions options, ILoggerFactory loggerFactory, CancellationToken stop)
    {
        var bus = BusConnection.Acquire(options, loggerFactory);
        try
        {
            await new BusPublisher(camera, bus, loggerFactory.CreateLogger("VideoEdge.Push")).RunAsync(stop);
        }
        finally
        {
            bus.Release();
        }
    }
}
