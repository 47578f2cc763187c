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
    private readonly bool _credentials = options.AuthEnabled;

    /// <summary>True when --allow-origin lists <paramref name="origin"/> (or is '*').</summary>
    public bool IsListed(string origin) => _any || _allowed.Contains(origin);

    /// <summary>True for a page of this very server: the Origin names the scheme and Host the request came with.</summary>
    public static bool IsSameOrigin(HttpRequest request, string origin)
    {
        var host = request.Host.Value;
        var scheme = request.Scheme;
        return host is not null
            && origin.Length == scheme.Length + 3 + host.Length
            && origin.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && origin.AsSpan(scheme.Length).StartsWith("://", StringComparison.Ordinal)
            && origin.AsSpan(scheme.Length + 3).Equals(host, StringComparison.OrdinalIgnoreCase);
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
