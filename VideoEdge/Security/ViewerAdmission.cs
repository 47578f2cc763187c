using System.Net;
using System.Threading.RateLimiting;
using VideoEdge.Api;
using VideoEdge.Configuration;

namespace VideoEdge.Security;

/// <summary>
/// How many streams (MJPEG and WebSocket, over all cameras) run at once, in total and per client
/// address. A viewer past a limit gets 503 with Retry-After before anything is streamed, so a board
/// stays responsive for the viewers it has instead of serving everyone badly.
/// </summary>
public sealed class ViewerAdmission(EdgeOptions options, Refusals refusals) : IDisposable
{
    private const string RetryAfterSeconds = "5";

    private readonly ConcurrencyLimiter _all = new(Limit(options.MaxClients));

    // A partition per address, dropped by the limiter once idle for a while, so the table cannot grow
    // with every address ever seen. A Unix socket's peer (no address) and --max-clients-per-ip 0 are not limited.
    private readonly PartitionedRateLimiter<IPAddress> _perAddress = PartitionedRateLimiter.Create<IPAddress, IPAddress>(address =>
        options.MaxClientsPerIp <= 0 || address.Equals(IPAddress.None)
            ? RateLimitPartition.GetNoLimiter(IPAddress.None)
            : RateLimitPartition.GetConcurrencyLimiter(address, _ => Limit(options.MaxClientsPerIp)));

    public int MaxClients => options.MaxClients;
    public int MaxClientsPerIp => options.MaxClientsPerIp;

    /// <summary>Streams running now.</summary>
    public int Active => MaxClients - (int)(_all.GetStatistics()?.CurrentAvailablePermits ?? MaxClients);

    /// <summary>
    /// A ticket for the viewer of <paramref name="context"/> (dispose it when the stream ends), or null
    /// after answering 503 because a limit is reached.
    /// </summary>
    public async ValueTask<IDisposable?> AdmitAsync(HttpContext context)
    {
        var all = _all.AttemptAcquire();
        var own = all.IsAcquired ? _perAddress.AttemptAcquire(Normalize(context.Connection.RemoteIpAddress)) : null;
        if (own is { IsAcquired: true })
        {
            return new Ticket(own, all);
        }
        own?.Dispose();
        all.Dispose();
        var (reason, detail, log) = own is null
            ? (RefusalReason.TooManyClients, $"{MaxClients} streams are running, the most this server allows.", "--max-clients reached")
            : (RefusalReason.TooManyFromAddress, $"Your address already holds {MaxClientsPerIp} streams, the most one address may.", "--max-clients-per-ip reached");
        refusals.Record(reason, context, log);
        context.Response.Headers.RetryAfter = RetryAfterSeconds;
        await ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "Too many viewers", detail + " Try again shortly.").WriteAsync(context);
        return null;
    }

    public void Dispose()
    {
        _perAddress.Dispose();
        _all.Dispose();
    }

    private static ConcurrencyLimiterOptions Limit(int permits) => new() { PermitLimit = permits, QueueLimit = 0 };

    /// <summary>IPv4 clients of a dual-stack listener arrive as ::ffff:a.b.c.d; count them as a.b.c.d.</summary>
    private static IPAddress Normalize(IPAddress? address) =>
        address is null ? IPAddress.None : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>One admitted stream's slots; each given back exactly once (a lease's Dispose is idempotent).</summary>
    private sealed class Ticket(RateLimitLease own, RateLimitLease all) : IDisposable
    {
        public void Dispose()
        {
            own.Dispose();
            all.Dispose();
        }
    }
}
