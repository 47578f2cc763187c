using System.Net;
using Microsoft.Extensions.Logging;

namespace VideoEdge.Security;

/// <summary>Why a request was turned away before it was served.</summary>
public enum RefusalReason
{
    /// <summary>401: no or wrong credentials.</summary>
    Unauthorized,
    /// <summary>403: a WebSocket opened by a page from an origin that is not allowed.</summary>
    ForbiddenOrigin,
    /// <summary>503: --max-clients streams are already running.</summary>
    TooManyClients,
    /// <summary>503: this address already holds --max-clients-per-ip streams.</summary>
    TooManyFromAddress,
    /// <summary>401 or 429 on /cams/NAME/ingest: no or wrong ingest token, or too many of them from this address.</summary>
    IngestToken,
}

/// <summary>
/// Counts every refusal by reason (for /api/state and /metrics) and logs each one with its reason.
/// A flood of refusals cannot fill the disk: past a burst, lines are counted instead and the count is
/// reported with the next line that is written.
/// </summary>
public sealed partial class Refusals(ILoggerFactory loggerFactory)
{
    /// <summary>Wrong ingest tokens an address may present at once, and then one a second: guessing becomes hopeless.</summary>
    public const int IngestGuessBurst = 10;
    private static readonly TimeSpan IngestGuessPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan IngestLogWindow = TimeSpan.FromMinutes(1);

    private const int MaxTrackedAddresses = 10_000;

    /// <summary>
    /// Wrong-token budget of one address (an IPv6 client by its /64, which it can fill with addresses
    /// at will): a bucket of <see cref="IngestGuessBurst"/> that refills one a second, and when its
    /// refusal was last logged. Not System.Threading.RateLimiting's partitioned token bucket: tried
    /// here, a bucket of 10 at 1/s let 40 sequential guesses in 0.7 s through.
    /// </summary>
    private sealed class GuessBudget
    {
        public double Tokens = IngestGuessBurst;
        public long UpdatedAt = Environment.TickCount64;
        public long LoggedAt = long.MinValue / 2;

        public void Refill(long now)
        {
            Tokens = Math.Min(IngestGuessBurst, Tokens + (now - UpdatedAt) / IngestGuessPeriod.TotalMilliseconds);
            UpdatedAt = now;
        }
    }

    private readonly Dictionary<IPAddress, GuessBudget> _ingestGuesses = [];

    private const int BurstLines = 20;
    private static readonly long BurstWindowMs = 10_000;
    private readonly ILogger _logger = loggerFactory.CreateLogger("VideoEdge.Security");
    private readonly long[] _counts = new long[Enum.GetValues<RefusalReason>().Length];
    private readonly Lock _lock = new();
    private long _windowStart = Environment.TickCount64;
    private int _linesInWindow;
    private long _suppressed;

    public long this[RefusalReason reason] => Interlocked.Read(ref _counts[(int)reason]);

    /// <param name="level">Warning by default; Debug for refusals that are a normal step of a protocol.</param>
    public void Record(RefusalReason reason, HttpContext context, string detail, LogLevel level = LogLevel.Warning)
    {
        Interlocked.Increment(ref _counts[(int)reason]);
        if (!_logger.IsEnabled(level))
        {
            return;
        }
        long suppressedBefore;
        lock (_lock)
        {
            var now = Environment.TickCount64;
            if (now - _windowStart >= BurstWindowMs)
            {
                _windowStart = now;
                _linesInWindow = 0;
            }
            if (++_linesInWindow > BurstLines)
            {
                _suppressed++;
                return;
            }
            suppressedBefore = _suppressed;
            _suppressed = 0;
        }
        var remote = Describe(context.Connection);
        var path = LogText.Safe(PathForLog(context.Request));
        if (suppressedBefore > 0)
        {
            LogRefusedAfterSuppressed(_logger, level, LogText.Safe(context.Request.Method), path, remote, detail, suppressedBefore);
        }
        else
        {
            LogRefused(_logger, level, LogText.Safe(context.Request.Method), path, remote, detail);
        }
    }

    /// <summary>
    /// The path, plus mjpg-streamer's ?action= (else /?action=stream reads as "GET /"); never the rest
    /// of the query string, which may carry ?token=.
    /// </summary>
    private static string PathForLog(HttpRequest request)
    {
        var path = request.Path.Value ?? "/";
        return request.Query.TryGetValue("action", out var action) ? path + "?action=" + action : path;
    }

    /// <summary>
    /// True when this address has used up its wrong ingest tokens: it is then answered 429 without
    /// its token being looked at, so parallel connections gain an attacker no more guesses.
    /// </summary>
    public bool IsIngestLockedOut(HttpContext context, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        lock (_lock)
        {
            if (!_ingestGuesses.TryGetValue(Partition(context), out var budget))
            {
                return false;
            }
            budget.Refill(Environment.TickCount64);
            if (budget.Tokens >= 1)
            {
                return false;
            }
            retryAfter = (1 - budget.Tokens) * IngestGuessPeriod;
        }
        RecordIngest(context, "too many wrong ingest tokens from this address: answered 429 without checking");
        return true;
    }

    /// <summary>Counts a missing or wrong ingest token against the address, and logs it (once a minute per address).</summary>
    public void RecordIngestFailure(HttpContext context)
    {
        lock (_lock)
        {
            var now = Environment.TickCount64;
            var address = Partition(context);
            if (!_ingestGuesses.TryGetValue(address, out var budget))
            {
                if (_ingestGuesses.Count >= MaxTrackedAddresses)
                {
                    // Addresses whose bucket has refilled have nothing left to remember.
                    foreach (var (key, old) in _ingestGuesses)
                    {
                        old.Refill(now);
                        if (old.Tokens >= IngestGuessBurst && now - old.LoggedAt >= IngestLogWindow.TotalMilliseconds)
                        {
                            _ingestGuesses.Remove(key);
                        }
                    }
                    if (_ingestGuesses.Count >= MaxTrackedAddresses)
                    {
                        // That many addresses guessing at once: forget them all rather than scan on every guess.
                        _ingestGuesses.Clear();
                    }
                }
                _ingestGuesses[address] = budget = new GuessBudget();
            }
            budget.Refill(now);
            budget.Tokens = Math.Max(0, budget.Tokens - 1);
        }
        RecordIngest(context, "no or wrong ingest token");
    }

    private void RecordIngest(HttpContext context, string detail)
    {
        var total = Interlocked.Increment(ref _counts[(int)RefusalReason.IngestToken]);
        bool log;
        lock (_lock)
        {
            var now = Environment.TickCount64;
            log = _ingestGuesses.TryGetValue(Partition(context), out var budget) && now - budget.LoggedAt >= IngestLogWindow.TotalMilliseconds;
            if (log)
            {
                budget!.LoggedAt = now;
            }
        }
        if (log)
        {
            LogIngestRefused(_logger, context.Connection.RemoteIpAddress?.ToString() ?? "local", detail, total, IngestLogWindow.TotalSeconds);
        }
    }

    private static IPAddress Partition(HttpContext context)
    {
        var ip = context.Connection.RemoteIpAddress ?? IPAddress.None;
        if (ip.IsIPv4MappedToIPv6)
        {
            return ip.MapToIPv4();
        }
        if (ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return ip;
        }
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused ingest from {Address}: {Detail} ({Total} ingest refusals in all; at most one line per address every {Seconds} s)")]
    private static partial void LogIngestRefused(ILogger logger, string address, string detail, long total, double seconds);

    [LoggerMessage(Message = "Refused {Method} {Path} from {Remote}: {Detail}")]
    private static partial void LogRefused(ILogger logger, LogLevel level, string method, string path, string remote, string detail);

    [LoggerMessage(Message = "Refused {Method} {Path} from {Remote}: {Detail} ({Suppressed} earlier refusals not logged: too many at once)")]
    private static partial void LogRefusedAfterSuppressed(ILogger logger, LogLevel level, string method, string path, string remote, string detail, long suppressed);

    /// <summary>
    /// "address:port", or the address alone when the port is unknown (a trusted proxy's X-Forwarded-For
    /// names only the viewer's address), or "local" for a Unix socket.
    /// </summary>
    public static string Describe(ConnectionInfo connection) => connection.RemoteIpAddress switch
    {
        null => "local",
        var ip when connection.RemotePort == 0 => ip.ToString(),
        var ip => $"{ip}:{connection.RemotePort}",
    };
}
