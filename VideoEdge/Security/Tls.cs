using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using VideoEdge.Configuration;

namespace VideoEdge.Security;

/// <summary>Serves HTTPS (and so WSS) on a listener when --tls-cert/--tls-key gave a certificate.</summary>
public static class Tls
{
    /// <summary>
    /// Loads the --tls-cert/--tls-key pair at start, so a bad certificate stops the start with exit 2
    /// rather than failing the first handshake; returns the problem, or null (and no certificate without --tls-cert).
    /// </summary>
    public static string? LoadCertificate(EdgeOptions options, out X509Certificate2? certificate)
    {
        certificate = null;
        if (options.TlsCertPath is null)
        {
            return null;
        }
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(options.TlsCertPath, options.TlsKeyPath);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            return $"--tls-cert {options.TlsCertPath} --tls-key {options.TlsKeyPath}: expected a PEM certificate and its matching private key ({ex.Message.Split('\n')[0].Trim()})";
        }
    }

    public static void Configure(ListenOptions listen, X509Certificate2? certificate)
    {
        if (certificate is not null)
        {
            listen.UseHttps(certificate);
        }
    }
}
