using VideoEdge.Configuration;

namespace VideoEdge.Security;

/// <summary>
/// Which web pages may use this server from a browser. Pages served by this server itself always
/// may. Others only when listed with --allow-origin: then they get CORS headers on what they fetch
/// and may open WebSockets. Browsers send Origin on every WebSocket handshake but apply no
/// same-origin rule to WebSockets, so without this check any site a viewer visits could open our
/// stream with the viewer's cached Basic credentials.
/// </summary>
public sealed class OriginPolicy(EdgeOptions options)
{
    private readonly bool _any = options.AllowedOrigins.Contains("*");
    private readonly HashSet<string> _allowed = new(options.AllowedOrigins, StringComparer.OrdinalIgnoreCase);
    // Never together with '*': EdgeOptions.ValidateSecurity refuses that combination at start.
    private readonly bool _credentials = options.AuthEnabled;

    /// <summary>True when --allow-origin lists <paramref name="origin"/> (or is '*').</summary>
    public bool IsListed(string origin) => _any || _allowed.Contains(origin);

    /// <summary>
    /// True for a page of this very server: the Origin names the scheme, host and port the request came
    /// to — as the browser saw them, once a trusted proxy's X-Forwarded-Proto/-Host are applied.
    /// Through a trusted proxy two things the proxy may have hidden are not held against the page:
    /// the port when the proxy passed a Host without one (nginx's common `proxy_set_header Host $host;`),
    /// and https when the proxy terminated TLS without saying so in X-Forwarded-Proto. The host name
    /// must still match, so another site's page is refused however the proxy is set up.
    /// </summary>
    public static bool IsSameOrigin(HttpRequest request, string origin)
    {
        var host = request.Host;
        if (!host.HasValue || !Uri.TryCreate(origin, UriKind.Absolute, out var page) || page.Scheme is not ("http" or "https"))
        {
            return false;
        }
        var proxied = TrustedProxies.CameThroughProxy(request.HttpContext);
        var sameScheme = string.Equals(page.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
            || (proxied && page.Scheme == "https" && string.Equals(request.Scheme, "http", StringComparison.OrdinalIgnoreCase));
        if (!sameScheme || !string.Equals(page.Host, host.Host, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        return host.Port is { } port ? page.Port == port : proxied || page.IsDefaultPort;
    }

    /// <summary>Adds the CORS response headers for a listed origin.</summary>
    public void AddCorsHeaders(HttpResponse response, string origin)
    {
        var headers = response.Headers;
        // Echo the origin rather than '*': browsers refuse '*' on requests that carry credentials.
        headers.AccessControlAllowOrigin = origin;
        headers.Vary = "Origin";
        headers.AccessControlExposeHeaders = "X-Timestamp, X-Frame-Sequence, Retry-After";
        if (_credentials)
        {
            headers.AccessControlAllowCredentials = "true";
        }
    }

    /// <summary>Answers a CORS preflight (which never carries credentials) for a listed origin.</summary>
    public Task AnswerPreflightAsync(HttpContext context, string origin)
    {
        AddCorsHeaders(context.Response, origin);
        var headers = context.Response.Headers;
        headers.AccessControlAllowMethods = "GET, HEAD, OPTIONS";
        headers.AccessControlAllowHeaders = "Authorization";
        headers.AccessControlMaxAge = "600";
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }
}
