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

    private static readonly string[] s_capture = ["source", "device", "resolution", "fps", "quality", "send-timeout"];

    /// <summary>Capture and picture settings as for the server (V4L2 ones included), plus where to push.</summary>
    internal static IReadOnlyList<OptionSpec> Specs { get; } =
    [
        .. EdgeOptions.CoreSpecs.Where(s => s_capture.Contains(s.Name)),
        .. EdgeOptions.CameraSpecs.Where(s => s.Name != "list-devices"),
        .. EdgeOptions.TransformSpecs,
        .. EdgeOptions.PushSpecs,
        .. EdgeOptions.BusSpecs,
    ];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h"))
        {
            Console.Out.Write(OptionsParser.Help(Specs,
                "video-edge push: send a camera to another video-edge (a hub with --camera NAME=remote and --ingest-token), or to every hub on a NATS bus (hubs with --camera NAME=bus).",
                "Usage: video-edge push --source SOURCE --to ws://HUB:PORT/cams/NAME/ingest --token TOKEN [--setting value]...\n" +
                "       video-edge push --source SOURCE --to nats://HOST:PORT/NAME [--bus-token-file FILE] [--setting value]..."));
            return 0;
        }
        var (options, error) = OptionsParser.Parse(args, Environment.GetEnvironmentVariable, Specs);
        if (options is null || (error = Validate(options)) is not null)
        {
            Console.Error.WriteLine("video-edge push: " + error);
            return 2;
        }
        // Encode only while the hub wants frames: a paused producer costs next to nothing.
        options.Slowdown = true;

        using var loggerFactory = LoggerFactory.Create(logging => logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        }));
        var logger = loggerFactory.CreateLogger("VideoEdge.Push");
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var camera = new Camera(CameraName(options.PushTo!), SourceFactory.Resolve(options.Source), options, loggerFactory);
        camera.Start();
        if (Bus.BusPush.IsBus(options.PushTo!))
        {
            await Bus.BusPush.RunAsync(camera, options, loggerFactory, stop.Token);
            return 0;
        }
        await new PushClient(camera, options.PushTo!, options.PushToken!, options.SendTimeout, logger).RunAsync(stop.Token);
        return 0;

        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
    }

    private static string? Validate(EdgeOptions options)
    {
        if (options.PushTo is null)
        {
            return "--to is required: the hub's ingest URL, ws://HUB:PORT/cams/NAME/ingest, or a bus, nats://HOST:PORT/NAME";
        }
        if (Bus.BusPush.IsBus(options.PushTo))
        {
            if (Bus.BusPush.Configure(options) is { } busProblem)
            {
                return busProblem;
            }
        }
        else if (options.PushToken is null)
        {
            return "--token, --token-file or VIDEOEDGE_TOKEN is required: the hub's --ingest-token";
        }
        if (options.Source == SourceFactory.RemoteKind)
        {
            return "--source remote: a producer needs a source of its own (a camera, file, URL or test)";
        }
        return SourceFactory.Validate(options.Source) is { } problem ? $"--source {options.Source}: expected {problem}" : null;
    }

    /// <summary>The hub's name for this camera (…/cams/NAME/ingest), so an --overlay {name} matches the hub's.</summary>
    private static string CameraName(Uri to)
    {
        if (Bus.BusPush.IsBus(to))
        {
            return Bus.BusPush.CameraName(to) ?? Verb;
        }
        var segments = to.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments is [.., "cams", var name, "ingest"] && Hosting.EdgeApp.CameraName().IsMatch(name) ? name : Verb;
    }
}
