namespace VideoEdge.Configuration;

/// <summary>
/// Settings of `video-edge push`: where to send the camera and the secret the hub expects, and the one
/// camera's capture, picture and bus settings. Parsed once by <see cref="Parse"/>; the server's own
/// settings know nothing of it.
/// </summary>
public sealed record PushConfig(Uri To, string? Token, EdgeOptions Camera)
{
    private static readonly string[] s_capture = ["source", "device", "resolution", "fps", "quality", "send-timeout"];

    /// <summary>Settings for --help: capture and picture settings as for the server (V4L2 ones included), where to push, the bus.</summary>
    public static IReadOnlyList<OptionSpec> Specs => SpecsFor(new Target());

    /// <summary>A NATS bus (nats:// or tls://) rather than one hub's ingest WebSocket.</summary>
    public bool ToBus => IsBus(To);

    public static bool IsBus(Uri to) => to.Scheme is "nats" or "tls";

    /// <summary>The settings, or the one line that tells the user what is wrong.</summary>
    public static (PushConfig? Config, string? Error) Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var target = new Target();
        var (camera, error) = OptionsParser.Parse(args, environment, SpecsFor(target));
        if (camera is null)
        {
            return (null, error);
        }
        if (target.To is null)
        {
            return (null, "--to is required: the hub's ingest URL, ws://HUB:PORT/cams/NAME/ingest, or a bus, nats://HOST:PORT/NAME");
        }
        if (!IsBus(target.To) && target.Token is null)
        {
            return (null, "--token, --token-file or VIDEOEDGE_TOKEN is required: the hub's --ingest-token");
        }
        if (camera.Source.Kind == SourceKind.Remote)
        {
            return (null, "--source remote: a producer needs a source of its own (a camera, file, URL or test)");
        }
        // Encode only while the hub wants frames: a paused producer costs next to nothing.
        camera.Slowdown = true;
        return (new PushConfig(target.To, target.Token, camera), null);
    }

    /// <summary>Where --to and --token land while the arguments are read.</summary>
    private sealed class Target
    {
        public Uri? To { get; set; }
        public string? Token { get; set; }
    }

    private static IReadOnlyList<OptionSpec> SpecsFor(Target target) =>
    [
        .. EdgeOptions.CoreSpecs.Where(s => s_capture.Contains(s.Name)),
        .. EdgeOptions.CameraSpecs.Where(s => s.Name != "list-devices"),
        .. EdgeOptions.TransformSpecs,
        new("to", null, "The hub's ingest URL: ws://HUB:PORT/cams/NAME/ingest (or wss://), NAME being a --camera NAME=remote of the hub; or a NATS bus, nats://HOST:PORT/NAME (or tls://), for hubs with --camera NAME=bus.",
            (_, v) =>
            {
                if (Uri.TryCreate(v.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "ws" or "wss" or "nats" or "tls")
                {
                    target.To = uri;
                    return null;
                }
                return "a ws:// or wss:// URL such as ws://hub:8080/cams/front/ingest, or nats://HOST:PORT/NAME";
            }),
        new("token", null, "The hub's --ingest-token. Prefer --token-file or the environment variable: flags are visible in the process list.",
            (_, v) =>
            {
                target.Token = v.Trim();
                return target.Token.Length > 0 ? null : "the hub's ingest token";
            }),
        new("token-file", null, "File holding the hub's ingest token (a trailing newline is ignored).",
            (_, v) => EdgeOptions.ReadSecretFile(v, "ingest token", s => target.Token = s)),
        .. EdgeOptions.BusSpecs,
    ];
}
