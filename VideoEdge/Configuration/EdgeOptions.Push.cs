namespace VideoEdge.Configuration;

/// <summary>Settings of `video-edge push`: where the hub is and the secret it expects.</summary>
public sealed partial class EdgeOptions
{
    /// <summary>The hub's ingest WebSocket, ws://HUB:PORT/cams/NAME/ingest.</summary>
    public Uri? PushTo { get; set; }
    public string? PushToken { get; set; }

    internal static IEnumerable<OptionSpec> PushSpecs =>
    [
        new("to", "", "The hub's ingest URL: ws://HUB:PORT/cams/NAME/ingest (or wss://), NAME being a --camera NAME=remote of the hub; or a NATS bus, nats://HOST:PORT/NAME (or tls://), for hubs with --camera NAME=bus.",
            (o, v) =>
            {
                if (Uri.TryCreate(v.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "ws" or "wss" or "nats" or "tls")
                {
                    o.PushTo = uri;
                    return null;
                }
                return "a ws:// or wss:// URL such as ws://hub:8080/cams/front/ingest, or nats://HOST:PORT/NAME";
            }),
        new("token", "", "The hub's --ingest-token. Prefer --token-file or the environment variable: flags are visible in the process list.",
            (o, v) =>
            {
                o.PushToken = v.Trim();
                return o.PushToken.Length > 0 ? null : "the hub's ingest token";
            }),
        new("token-file", "", "File holding the hub's ingest token (a trailing newline is ignored).",
            (o, v) => ReadSecretFile(v, "ingest token", s => o.PushToken = s)),
    ];
}
