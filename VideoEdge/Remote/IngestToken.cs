using System.Security.Cryptography;
using System.Text;

namespace VideoEdge.Remote;

/// <summary>Checks the producer's secret: an "Authorization: Bearer" header, or ?token= where headers cannot be set.</summary>
public static class IngestToken
{
    public static bool IsPresentedBy(HttpContext context, string expected)
    {
        var header = context.Request.Headers.Authorization.ToString();
        var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? header[7..].Trim()
            : context.Request.Query["token"].ToString();
        return given.Length > 0 && Matches(given, expected);
    }

    /// <summary>Compares digests in constant time, so neither the content nor the length of the secret leaks through timing.</summary>
    public static bool Matches(string given, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
