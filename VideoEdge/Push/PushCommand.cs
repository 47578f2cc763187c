using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using VideoEdge.Cameras;
using VideoEdge.Configuration;
using VideoEdge.Sources;

namespace VideoEdge.Push;

/// <summary>
/// `video-edge push --source … --to ws://hub:8080/cams/NAME/ingest --token …`: the same binary as a
/// producer. It runs one camera with the usual sources (and no HTTP listener) and pushes its frames.
/// </summary>
public static class PushCommand
{
    public const string Verb = "push";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.Out.Write(OptionsParser.Help(PushConfig.Specs,
                "video-edge push: send a camera to another video-edge (a hub with --camera NAME=remote and --ingest-token), or to every hub on a NATS bus (hubs with --camera NAME=bus).",
                "Usage: video-edge push --source SOURCE --to ws://HUB:PORT/cams/NAME/ingest --token TOKEN [--setting value]...\n" +
                "       video-edge push --source SOURCE --to nats://HOST:PORT/NAME [--bus-token-file FILE] [--setting value]..."));
            return 0;
        }
        var (push, error) = PushConfig.Parse(args, Environment.GetEnvironmentVariable);
        if (push is null || (push.ToBus && (error = Bus.BusPush.Configure(push.To, push.Camera)) is not null))
        {
            Console.Error.WriteLine("video-edge push: " + error);
            return 2;
        }
        var options = push.Camera;
        if (SourceFactory.Unavailable(options.Source) is { } unavailable)
        {
            Console.Error.WriteLine($"video-edge push: --source {options.Source.Text}: expected {unavailable}");
            return 2;
        }

        using var loggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        }));
        var logger = loggerFactory.CreateLogger("VideoEdge.Push");
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var camera = new Camera(CameraName(push), SourceFactory.ResolveAuto(options.Source), options, loggerFactory);
        camera.Start();
        if (push.ToBus)
        {
            await Bus.BusPush.RunAsync(camera, options, loggerFactory, stop.Token);
            return 0;
        }
        await new PushClient(camera, push.To, push.Token!, options.SendTimeout, logger).RunAsync(stop.Token);
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    /// <summary>The hub's name for this camera (…/cams/NAME/ingest), so an --overlay {name} matches the hub's.</summary>
    private static string CameraName(PushConfig push)
    {
        if (push.ToBus)
        {
            return Bus.BusPush.CameraName(push.To) ?? Verb;
        }
        var segments = push.To.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments is [.., "cams", var name, "ingest"] && CameraNames.IsValid(name) ? name : Verb;
    }
}
