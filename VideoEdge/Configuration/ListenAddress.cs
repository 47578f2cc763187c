using System.Globalization;
using System.Net;

namespace VideoEdge.Configuration;

/// <summary>A parsed --listen value: host:port, [v6]:port, or unix:/path.</summary>
public sealed record ListenAddress(IPAddress? Address, int Port, string? UnixSocketPath)
{
    /// <summary>127.0.0.1:8080: this machine only, until the user chooses to expose the camera.</summary>
    public static ListenAddress Default { get; } = new(IPAddress.Loopback, 8080, null);

    public bool IsLoopback => UnixSocketPath is not null || (Address is not null && IPAddress.IsLoopback(Address));

    public static bool TryParse(string value, out ListenAddress address, out string? error)
    {
        address = new ListenAddress(null, 0, null);
        error = "host:port (e.g. 127.0.0.1:8080, 0.0.0.0:8080, [::]:8080) or unix:/path/to.sock";
        if (value.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = value[5..];
            if (path.StartsWith('/'))
            {
                address = new ListenAddress(null, 0, path);
                error = null;
                return true;
            }
            return false;
        }
        var colon = value.LastIndexOf(':');
        if (colon <= 0)
        {
            return false;
        }
        var host = value[..colon].Trim('[', ']');
        if (!int.TryParse(value[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            return false;
        }
        IPAddress? ip = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" => IPAddress.Any,
            _ => IPAddress.TryParse(host, out var parsed) ? parsed : null,
        };
        if (ip is null)
        {
            return false;
        }
        address = new ListenAddress(ip, port, null);
        error = null;
        return true;
    }

    public override string ToString() => UnixSocketPath is not null
        ? "unix:" + UnixSocketPath
        : Address!.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]:{Port}" : $"{Address}:{Port}";
}
