using Microsoft.AspNetCore.Server.Kestrel.Core;
using VideoEdge.Configuration;

namespace VideoEdge.Security;

/// <summary>Serves HTTPS (and so WSS) on a listener when --tls-cert/--tls-key gave a certificate.</summary>
public static class Tls
{
    public static void Configure(ListenOptions listen, EdgeOptions options)
    {
        if (options.TlsCertificate is { } certificate)
        {
            listen.UseHttps(certificate);
        }
    }
}
