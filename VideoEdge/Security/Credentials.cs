using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using VideoEdge.Configuration;

namespace VideoEdge.Security;

/// <summary>
/// The configured user, password and token, kept only as SHA-256 digests. A presented secret is
/// hashed and the digests compared with <see cref="CryptographicOperations.FixedTimeEquals"/>, so how
/// long a check takes says nothing about how much of a guess was right, nor how long the secret is.
/// </summary>
public sealed class Credentials
{
    public enum Outcome { Accepted, Missing, Rejected }

    private const int HashBytes = 32;
    private readonly byte[]? _user;
    private readonly byte[]? _password;
    private readonly byte[]? _token;

    public Credentials(EdgeOptions options)
    {
        _user = Digest(options.AuthUser);
        _password = Digest(options.AuthPassword);
        _token = Digest(options.AuthToken);
        Challenge = (_user, _token) switch
        {
            (not null, not null) => new StringValues(["Basic realm=\"video-edge\", charset=\"UTF-8\"", "Bearer realm=\"video-edge\""]),
            (not null, null) => "Basic realm=\"video-edge\", charset=\"UTF-8\"",
            _ => "Bearer realm=\"video-edge\"",
        };
    }

    public bool Enabled => _user is not null || _token is not null;

    /// <summary>The WWW-Authenticate challenges a 401 carries: one per accepted scheme.</summary>
    public StringValues Challenge { get; }

    /// <summary>Accepted when the Authorization header or ?token= holds a right secret.</summary>
    public Outcome Check(HttpRequest request)
    {
        var presented = false;
        var header = request.Headers.Authorization;
        if (header.Count == 1 && header[0] is { } authorization)
        {
            presented = true;
            if (CheckHeader(authorization))
            {
                return Outcome.Accepted;
            }
        }
        else if (header.Count > 1)
        {
            presented = true;
        }
        if (request.QueryString.HasValue && request.Query.TryGetValue("token", out var query))
        {
            presented = true;
            if (query.Count == 1 && _token is not null && Matches(query[0], _token))
            {
                return Outcome.Accepted;
            }
        }
        return presented ? Outcome.Rejected : Outcome.Missing;
    }

    private bool CheckHeader(string authorization)
    {
        var value = authorization.AsSpan().Trim();
        var space = value.IndexOf(' ');
        if (space <= 0)
        {
            return false;
        }
        var scheme = value[..space];
        var parameter = value[(space + 1)..].Trim();
        if (scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
        {
            return _token is not null && Matches(parameter, _token);
        }
        return scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase) && _user is not null && CheckBasic(parameter);
    }

    private bool CheckBasic(ReadOnlySpan<char> base64)
    {
        var rented = ArrayPool<byte>.Shared.Rent(base64.Length);
        try
        {
            if (!Convert.TryFromBase64Chars(base64, rented, out var length))
            {
                return false;
            }
            var decoded = rented.AsSpan(0, length);
            var colon = decoded.IndexOf((byte)':');
            if (colon < 0)
            {
                return false;
            }
            // Both halves are always checked (no short-circuit), so a right user name is not told apart by time.
            return Matches(decoded[..colon], _user!) & Matches(decoded[(colon + 1)..], _password!);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rented);
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool Matches(ReadOnlySpan<char> presented, byte[] expectedDigest)
    {
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(presented.Length));
        try
        {
            var n = Encoding.UTF8.GetBytes(presented, rented);
            return Matches(rented.AsSpan(0, n), expectedDigest);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(rented);
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>True when <paramref name="presented"/> hashes to <paramref name="expectedDigest"/>; the time taken depends only on the presented length.</summary>
    internal static bool Matches(ReadOnlySpan<byte> presented, ReadOnlySpan<byte> expectedDigest)
    {
        Span<byte> digest = stackalloc byte[HashBytes];
        SHA256.HashData(presented, digest);
        return CryptographicOperations.FixedTimeEquals(digest, expectedDigest);
    }

    internal static byte[]? Digest(string? secret) => secret is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
