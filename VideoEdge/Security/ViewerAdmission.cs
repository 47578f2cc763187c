using System.Net;
using VideoEdge.Api;
using VideoEdge.Configuration;

namespace VideoEdge.Security;

/// <summary>
/// How many streams (MJPEG and WebSocket, over all cameras) run at once, in total and per client
/// address. A viewer past a limit gets 503 with Retry-After before anything is streamed, so a board
/// stays responsive for the viewers it has instead of serving everyone badly.
/// </summary>
public sealed class ViewerAdmission(EdgeOptions options, Refusals refusals)
{
    private const string RetryAfterSeconds = "5";
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private int _active;

    public int MaxClients => options.MaxClients;
    public int MaxClientsPerIp => options.MaxClientsPerIp;

    /// <summary>Streams running now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>
    /// A ticket for the viewer of <paramref name="context"/> (dispose it when the stream ends), or null
    /// after answering 503 because a limit is reached.
    /// </summary>
    public async ValueTask<Ticket?> AdmitAsync(HttpContext context)
    {
        var refusal = TryEnter(Normalize(context.Connection.RemoteIpAddress), out var ticket);
        if (refusal is null)
        {
            return ticket;
        }
        var (detail, log) = refusal == RefusalReason.TooManyClients
            ? ($"{MaxClients} streams are running, the most this server allows.", "--max-clients reached")
            : ($"Your address already holds {MaxClientsPerIp} streams, the most one address may.", "--max-clients-per-ip reached");
        refusals.Record(refusal.Value, context, log);
        context.Response.Headers.RetryAfter = RetryAfterSeconds;
        await ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "Too many viewers", detail + " Try again shortly.").WriteAsync(context);
        return null;
    }

    /// <summary>Takes a slot for <paramref name="address"/> (null: a Unix socket, no per-address limit); returns why not, or null.</summary>
    internal RefusalReason? TryEnter(IPAddress? address, out Ticket? ticket)
    {
        ticket = null;
        lock (_lock)
        {
            if (_active >= options.MaxClients)
            {
                return RefusalReason.TooManyClients;
            }
            if (address is not null)
            {
                _perAddress.TryGetValue(address, out var held);
                if (options.MaxClientsPerIp > 0 && held >= options.MaxClientsPerIp)
                {
                    return RefusalReason.TooManyFromAddress;
                }
                _perAddress[address] = held + 1;
            }
            _active++;
        }
        ticket = new Ticket(this, address);
        return null;
    }

    private void Leave(IPAddress? address)
    {
        lock (_lock)
        {
            _active--;
            // Entries go when their last stream does, so the table cannot grow with every address ever seen.
            if (address is not null && _perAddress.TryGetValue(address, out var held))
            {
                if (held <= 1)
                {
                    _perAddress.Remove(address);
                }
                else
                {
                    _perAddress[address] = held - 1;
                }
            }
        }
    }

    /// <summary>IPv4 clients of a dual-stack listener arrive as ::ffff:a.b.c.d; count them as a.b.c.d.</summary>
    private static IPAddress? Normalize(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;

    /// <summary>One admitted stream's slot; given back exactly once.</summary>
    public sealed class Ticket : IDisposable
    {
        private ViewerAdmission? _owner;
        private readonly IPAddress? _address;

        internal Ticket(ViewerAdmission owner, IPAddress? address)
        {
            _owner = owner;
            _address = address;
        }

        public void Dispose() => Interlocked.Exchange(ref _owner, null)?.Leave(_address);
    }
}
