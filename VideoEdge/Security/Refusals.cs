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
}

/// <summary>
/// Counts every refusal by reason (for /api/state and /metrics) and logs each one with its reason.
/// A flood of refusals cannot fill the disk: past a burst, lines are counted instead and the count is
/// reported with the next line that is written.
/// </summary>
public sealed partial class Refusals(ILoggerFactory loggerFactory)
{
    private const int BurstLines = 20;
    private static readonly long BurstWindowMs = 10_000;
    private readonly ILogger _logger = loggerFactory.CreateLogger("VideoEdge.Security");
    private readonly long[] _counts = new long[Enum.GetValues<RefusalReason>().Length];
    private readonly Lock _lock = new();
    private long _windowStart = Environment.TickCount64;
    private int _linesInWindow;
    private long _suppressed;

    public long this[RefusalReason reason] => Interlocked.Read(ref _counts[(int)reason]);

    public void Record(RefusalReason reason, HttpContext context, string detail)
    {
        Interlocked.Increment(ref _counts[(int)reason]);
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
        // The path only: a query string may carry ?token=.
        var path = LogText.Safe(context.Request.Path.Value ?? "/");
        if (suppressedBefore > 0)
        {
            LogRefusedAfterSuppressed(_logger, LogText.Safe(context.Request.Method), path, remote, detail, suppressedBefore);
        }
        else
        {
            LogRefused(_logger, LogText.Safe(context.Request.Method), path, remote, detail);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {Remote}: {Detail}")]
    private static partial void LogRefused(ILogger logger, string method, string path, string remote, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {Remote}: {Detail} ({Suppressed} earlier refusals not logged: too many at once)")]
    private static partial void LogRefusedAfterSuppressed(ILogger logger, string method, string path, string remote, string detail, long suppressed);

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
