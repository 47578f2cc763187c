using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>A self-signed certificate for 127.0.0.1 in PEM files, for --tls-cert/--tls-key; deleted on dispose.</summary>
public sealed class TestCertificate : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("video-edge-tls-");

    public TestCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=video-edge test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        CertPath = Path.Combine(_dir.FullName, "cert.pem");
        KeyPath = Path.Combine(_dir.FullName, "key.pem");
        File.WriteAllText(CertPath, certificate.ExportCertificatePem());
        File.WriteAllText(KeyPath, key.ExportPkcs8PrivateKeyPem());
    }

    public string CertPath { get; }
    public string KeyPath { get; }

    /// <summary>The server flags that serve HTTPS with this certificate.</summary>
    public string[] ServerArgs => ["--tls-cert", CertPath, "--tls-key", KeyPath];

    public void Dispose() => _dir.Delete(recursive: true);
}
