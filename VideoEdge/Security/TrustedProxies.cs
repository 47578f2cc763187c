using System.Net;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.AspNetCore.HttpOverrides;
using VideoEdge.Configuration;

namespace VideoEdge.Security;

/// <summary>
/// Reverse proxies (--trusted-proxy): from them, X-Forwarded-For/-Proto/-Host replace the peer's
/// address, the scheme and the Host, so per-address limits, logs and the WebSocket Origin check see
/// the viewer and the URL the browser opened rather than the proxy. ASP.NET's forwarded-headers
/// middleware does the parsing; from any other peer the headers are ignored.
/// </summary>
public static class TrustedProxies
{
    private static readonly object ProxiedKey = new();

    /// <summary>The loopback networks ASP.NET trusts by default: a proxy on this machine.</summary>
    private static readonly IPNetwork[] Loopback = [new(IPAddress.Loopback, 8), new(IPAddress.IPv6Loopback, 128)];

    public static WebApplication UseTrustedProxies(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<EdgeOptions>();
        var forwarded = new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
            // Walk X-Forwarded-For from the right through every trusted hop (CDN → nginx → us), stopping
            // at the first address that is not a trusted proxy: that one is the viewer.
            ForwardLimit = null,
        };
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var network in options.TrustedProxies ?? [.. Loopback])
        {
            forwarded.KnownIPNetworks.Add(network);
        }

        // Remembered before the middleware rewrites the peer address, for the Origin check's leniency.
        app.Use(next => context =>
        {
            if (IsTrusted(forwarded, context.Connection.RemoteIpAddress))
            {
                context.Items[ProxiedKey] = ProxiedKey;
            }
            return next(context);
        });
        app.UseForwardedHeaders(forwarded);
        return app;
    }

    /// <summary>
    /// True when the request reached us from a trusted proxy (or over a Unix socket, which only a local
    /// proxy uses; the middleware applies forwarded headers there too).
    /// </summary>
    public static bool CameThroughProxy(HttpContext context) => context.Items.ContainsKey(ProxiedKey);

    private static bool IsTrusted(ForwardedHeadersOptions forwarded, IPAddress? peer)
    {
        if (peer is null)
        {
            return true;
        }
        if (peer.IsIPv4MappedToIPv6)
        {
            peer = peer.MapToIPv4();
        }
        foreach (var network in forwarded.KnownIPNetworks)
        {
            if (network.Contains(peer))
            {
                return true;
            }
        }
        return false;
    }
}
