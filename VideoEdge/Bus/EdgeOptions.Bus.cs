using NATS.NKeys;
using VideoEdge.Bus;

namespace VideoEdge.Configuration;

/// <summary>
/// Settings of the NATS bus (hubs and producers alike). Secrets come from files only: a flag's value
/// is visible to every user in the process list.
/// </summary>
public sealed partial class EdgeOptions
{
    /// <summary>Comma-separated nats:// (or tls://) URLs of one NATS cluster; null: no bus.</summary>
    public string? BusUrls { get; set; }
    public string? BusToken { get; set; }
    public string? BusUser { get; set; }
    public string? BusPassword { get; set; }
    public string? BusCredsFile { get; set; }
    /// <summary>The NKey user seed (SU…) from --bus-nkey-file, and its public key (U…), which the server's config names.</summary>
    public string? BusNKeySeed { get; set; }
    public string? BusNKey { get; set; }
    public string? BusTlsCa { get; set; }
    public string? BusTlsCert { get; set; }
    public string? BusTlsKey { get; set; }
    public string BusPrefix { get; set; } = BusSubjects.DefaultPrefix;

    /// <summary>Hub: a bus camera with viewers that gets no frame for this long shows no-signal.</summary>
    public TimeSpan BusFrameTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Hub: publish every local camera on the bus too (a Pi with a camera can be producer and hub).</summary>
    public bool PublishToBus { get; set; }

    /// <summary>Where the bus is and how to log in to it: shared by the server and `video-edge push`.</summary>
    internal static IEnumerable<OptionSpec> BusSpecs =>
    [
        new("bus", null, "NATS server(s) for cameras shared between hubs: nats://HOST:PORT (tls://… for TLS), several comma-separated for a cluster.",
            (o, v) =>
            {
                var urls = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (urls.Length > 0 && urls.All(u => Uri.TryCreate(u, UriKind.Absolute, out var uri) && uri.Scheme is "nats" or "tls" && uri.UserInfo.Length == 0))
                {
                    o.BusUrls = string.Join(',', urls);
                    return null;
                }
                return "nats://HOST:PORT or tls://HOST:PORT, comma-separated, without credentials (use --bus-token-file, --bus-user with --bus-password-file, --bus-creds-file or --bus-nkey-file)";
            }),
        new("bus-token-file", null, "File holding the NATS server's authorization token.",
            (o, v) => ReadSecretFile(v, "bus token", s => o.BusToken = s)),
        new("bus-user", null, "NATS user name (with --bus-password-file).",
            (o, v) => { o.BusUser = v.Trim(); return o.BusUser.Length > 0 ? null : "a user name"; }),
        new("bus-password-file", null, "File holding the NATS user's password.",
            (o, v) => ReadSecretFile(v, "bus password", s => o.BusPassword = s)),
        new("bus-creds-file", null, "NATS credentials file (JWT and NKey seed, as `nsc` writes it).",
            (o, v) => ReadablePath(v, x => o.BusCredsFile = x)),
        new("bus-nkey-file", null, "File holding an NKey user seed (SU…, as `nk -gen user` writes it) for the NATS server's nkey authorization.",
            ReadNKeySeed),
        new("bus-tls-ca", null, "PEM CA certificate(s) to verify the NATS server with (implies TLS).",
            (o, v) => ReadablePath(v, x => o.BusTlsCa = x)),
        new("bus-tls-cert", null, "PEM client certificate for NATS servers that verify clients (with --bus-tls-key).",
            (o, v) => ReadablePath(v, x => o.BusTlsCert = x)),
        new("bus-tls-key", null, "PEM private key of --bus-tls-cert.",
            (o, v) => ReadablePath(v, x => o.BusTlsKey = x)),
        new("bus-prefix", o => o.BusPrefix, "First token of every bus subject (PREFIX.cam.NAME.frames / .demand), to share one NATS with other uses.",
            (o, v) =>
            {
                o.BusPrefix = v.Trim();
                return BusSubjects.IsToken(o.BusPrefix) ? null : "letters, digits, _ or - (one NATS subject token)";
            }),
    ];

    /// <summary>Hub-only bus settings.</summary>
    internal static IEnumerable<OptionSpec> BusHubSpecs =>
    [
        new("publish-to-bus", o => Shown(o.PublishToBus), "Publish this hub's own cameras (not the bus ones) on --bus, for other hubs' --camera NAME=bus.",
            (o, v) => ParseBool(v, x => o.PublishToBus = x), IsSwitch: true),
        new("bus-frame-timeout", o => Shown(o.BusFrameTimeout), "Seconds a watched bus camera may go without a frame before it shows no-signal.",
            (o, v) => ParseDouble(v, 0.5, 60, x => o.BusFrameTimeout = TimeSpan.FromSeconds(x), "seconds from 0.5 to 60")),
    ];

    /// <summary>
    /// Takes the seed and derives its public key here: the NATS client's own NKeyFile wants the public
    /// key on a line of its own too, which the seed files `nk` and `nsc` write do not have.
    /// </summary>
    private static string? ReadNKeySeed(EdgeOptions o, string v)
    {
        string? text = null;
        if (ReadSecretFile(v, "bus NKey seed", s => text = s) is { } error)
        {
            return error;
        }
        // The message never quotes the file: it may hold some other secret.
        var none = $"a file holding an NKey user seed (a line starting SU…), but '{v.Trim()}' has none that is valid";
        // A seed is 58 base32 characters; NATS.NKeys throws IndexOutOfRangeException on shorter input.
        var seed = text!.Split('\n', StringSplitOptions.TrimEntries).FirstOrDefault(l => l.StartsWith("SU", StringComparison.Ordinal) && l.Length == 58);
        if (seed is null)
        {
            return none;
        }
        try
        {
            using var pair = KeyPair.FromSeed(seed);
            o.BusNKey = pair.GetPublicKey();
            o.BusNKeySeed = seed;
            return null;
        }
        catch (Exception ex) when (ex is NKeysException or IndexOutOfRangeException or ArgumentException)
        {
            return none;
        }
    }

    private static string? ReadablePath(string v, Action<string> set)
    {
        var path = v.Trim();
        try
        {
            using var _ = File.OpenRead(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"a readable file (cannot read '{path}': {ex.Message})";
        }
        set(path);
        return null;
    }
}
