using System.Net;

namespace VideoEdge.Configuration;

/// <summary>Who may watch, from where, over what, and how many at once.</summary>
public sealed partial class EdgeOptions
{
    public string? AuthUser { get; set; }
    /// <summary>From --auth-password or --auth-password-file, whichever was given: settled by <see cref="ValidateSecurity"/>.</summary>
    public string? AuthPassword { get; private set; }
    public string? AuthToken { get; set; }
    /// <summary>Origins (scheme://host[:port]) that may read from a browser on another site; "*" for any.</summary>
    public List<string> AllowedOrigins { get; } = [];
    public string? TlsCertPath { get; set; }
    public string? TlsKeyPath { get; set; }
    public int MaxClients { get; set; } = 64;
    /// <summary>Streams one address may hold; 0 = no limit.</summary>
    public int MaxClientsPerIp { get; set; } = 16;
    /// <summary>
    /// Reverse proxies whose X-Forwarded-For/-Proto/-Host are believed; null = this machine's loopback
    /// (a proxy on the same host), empty = none ('--trusted-proxy none').
    /// </summary>
    public List<IPNetwork>? TrustedProxies { get; private set; }

    public bool AuthEnabled => AuthUser is not null || AuthToken is not null;

    private string? _passwordFromFlag;
    private string? _passwordFromFile;

    internal static IEnumerable<OptionSpec> SecuritySpecs =>
    [
        new("auth-user", null, "User name for HTTP Basic authentication (with --auth-password or --auth-password-file). Every endpoint but /healthz then needs it.",
            (o, v) => { o.AuthUser = v; return v.Length > 0 && !v.Contains(':') ? null : "a non-empty user name without ':'"; }),
        new("auth-password", null, "Password for --auth-user. Prefer --auth-password-file: a flag is visible to every local user in ps.",
            (o, v) => { o._passwordFromFlag = v; return v.Length > 0 ? null : "a non-empty password"; }),
        new("auth-password-file", null, "File holding the password for --auth-user (a trailing newline is ignored); for systemd credentials use %d/NAME.",
            (o, v) => ReadSecretFile(v, "password", s => o._passwordFromFile = s)),
        new("auth-token", null, "Access token accepted as 'Authorization: Bearer TOKEN' or '?token=TOKEN' (for <img> and WebSocket URLs).",
            (o, v) => { o.AuthToken = v; return v.Length > 0 ? null : "a non-empty token"; }),
        new("auth-token-file", null, "File holding the access token (a trailing newline is ignored).",
            (o, v) => ReadSecretFile(v, "token", s => o.AuthToken = s)),
        new("allow-origin", null, "Origin (scheme://host[:port]) whose pages may fetch streams and open WebSockets here (CORS); '*' for any (only without authentication, or every site could use a viewer's credentials). Off by default.",
            (o, v) =>
            {
                var given = v.Trim().TrimEnd('/');
                var origin = given == "*" ? given : NormalizeOrigin(given);
                if (origin is null)
                {
                    return "'*' or an origin such as https://example.com or http://192.168.1.5:8123 (no path)";
                }
                o.AllowedOrigins.Add(origin);
                return null;
            }, Repeatable: true),
        new("trusted-proxy", o => o.TrustedProxies is { } proxies ? string.Join(", ", proxies) : "127.0.0.0/8, ::1", "Address or CIDR of a reverse proxy whose X-Forwarded-For/-Proto/-Host to believe (the viewer's address, https and host name as the browser sees them); 'none' for no proxy. Giving it replaces the default (this machine). Requests from other addresses have those headers ignored.",
            (o, v) =>
            {
                var given = v.Trim();
                o.TrustedProxies ??= [];
                if (given.Equals("none", StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }
                if (IPAddress.TryParse(given, out var address))
                {
                    o.TrustedProxies.Add(new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
                    return null;
                }
                if (IPNetwork.TryParse(given, out var network))
                {
                    o.TrustedProxies.Add(network);
                    return null;
                }
                return "'none', an IP address such as 192.168.1.2 or a network such as 10.0.0.0/8 or fd00::/8";
            }, Repeatable: true),
        new("tls-cert", null, "PEM certificate (chain) to serve HTTPS and WSS with (needs --tls-key).",
            (o, v) => { o.TlsCertPath = v.Trim(); return o.TlsCertPath.Length > 0 ? null : "a path to a PEM certificate file"; }),
        new("tls-key", null, "PEM private key for --tls-cert.",
            (o, v) => { o.TlsKeyPath = v.Trim(); return o.TlsKeyPath.Length > 0 ? null : "a path to a PEM private key file"; }),
        new("max-clients", o => Shown(o.MaxClients), "Streams (MJPEG and WebSocket) served at once; the next viewer gets 503 with Retry-After.",
            (o, v) => ParseInt(v, 1, 100_000, x => o.MaxClients = x, "an integer from 1 to 100000")),
        new("max-clients-per-ip", o => Shown(o.MaxClientsPerIp), "Streams one client address may hold at once (0 = no limit). Behind a --trusted-proxy it is the viewer's address the proxy reports.",
            (o, v) => ParseInt(v, 0, 100_000, x => o.MaxClientsPerIp = x, "an integer from 0 (no limit) to 100000")),
    ];

    /// <summary>Checks the settings that depend on each other; returns the problem or null. (Security.Tls loads the certificate.)</summary>
    internal string? ValidateSecurity()
    {
        if (_passwordFromFlag is not null && _passwordFromFile is not null)
        {
            return "--auth-password and --auth-password-file both given: use one";
        }
        AuthPassword = _passwordFromFlag ?? _passwordFromFile;
        if ((AuthUser is null) != (AuthPassword is null))
        {
            return AuthUser is null
                ? "--auth-password needs --auth-user"
                : "--auth-user needs --auth-password or --auth-password-file";
        }
        // Browsers send saved Basic credentials with cross-site WebSocket handshakes and credentialed
        // fetches, so "any origin" with authentication would let every web site a viewer visits watch
        // the camera as that viewer.
        if (AuthEnabled && AllowedOrigins.Contains("*"))
        {
            return "--allow-origin '*' with authentication would let every web site use a viewer's credentials to watch the camera: list the sites instead (--allow-origin https://dashboard.example)";
        }
        if ((TlsCertPath is null) != (TlsKeyPath is null))
        {
            return TlsCertPath is null ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key";
        }
        if (TlsCertPath is not null && Listen.UnixSocketPath is not null)
        {
            return "--tls-cert with a unix: --listen address: TLS is for TCP listeners";
        }
        // Only whether the files can be read: Security.Tls loads (and so checks) the pair at start.
        if (TlsCertPath is not null && (Unreadable(TlsCertPath) ?? Unreadable(TlsKeyPath!)) is { } unreadable)
        {
            return $"--tls-cert {TlsCertPath} --tls-key {TlsKeyPath}: expected a PEM certificate and its matching private key ({unreadable})";
        }
        return null;
    }

    private static string? Unreadable(string path)
    {
        try
        {
            using var _ = File.OpenRead(path);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return ex.Message;
        }
    }

    internal static string? ReadSecretFile(string path, string what, Action<string> set)
    {
        try
        {
            // systemd credentials and `echo secret > file` both end the secret with a newline.
            var secret = File.ReadAllText(path.Trim()).TrimEnd('\r', '\n');
            if (secret.Length == 0)
            {
                return $"a file holding the {what}, but '{path}' is empty";
            }
            set(secret);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"a readable file holding the {what} ({ex.Message})";
        }
    }

    /// <summary>The origin as a browser sends it (lower-case host, default port left out), or null when it is not one.</summary>
    private static string? NormalizeOrigin(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https"
        && uri.AbsolutePath == "/" && uri.Query.Length == 0 && uri.Fragment.Length == 0 && uri.UserInfo.Length == 0
            ? uri.GetLeftPart(UriPartial.Authority)
            : null;
}
