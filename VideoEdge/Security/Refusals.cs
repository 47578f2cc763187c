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
