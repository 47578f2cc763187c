using Microsoft.Extensions.Logging;
using VideoEdge.Api;
using VideoEdge.Viewers;

namespace VideoEdge.Security;

/// <summary>
/// Errors a client causes are answered and logged in one line, at most one every few seconds: a
/// body over the limit or a malformed one (BadHttpRequestException), and a client that vanished
/// mid-request. Left to the host, each is an error with a stack trace: 2,000 oversized PUTs wrote
/// 3.5 MB of log in under a second. Anything else is a real bug and keeps its trace.
/// </summary>
public static partial class ClientErrors
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);

    public static WebApplication UseClientErrors(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("VideoEdge.Http");
        var budget = new LogBudget(LogInterval);
        app.Use(next => async context =>
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException ex)
            {
                if (budget.TryTake(out var leftOut))
                {
                    LogBadRequest(logger, LogText.Safe(context.Request.Method), LogText.Safe(context.Request.Path.Value ?? "/"), ViewerRequest.Remote(context), ex.StatusCode, LogText.Safe(ex.Message), leftOut);
                }
                if (!context.Response.HasStarted)
                {
                    context.Response.Clear();
                    await ApiProblem.Create(ex.StatusCode, "Bad request", ex.Message).WriteAsync(context);
                }
            }
            catch (Exception ex) when (context.RequestAborted.IsCancellationRequested && ViewerLoop.IsDisconnect(ex))
            {
                // The client went away mid-request (a reset right after a WebSocket upgrade, say):
                // there is nobody to answer, and nothing went wrong here.
                if (budget.TryTake(out var leftOut))
                {
                    LogClientGone(logger, LogText.Safe(context.Request.Method), LogText.Safe(context.Request.Path.Value ?? "/"), ViewerRequest.Remote(context), ex.GetType().Name, leftOut);
                }
            }
        });
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bad request {Method} {Path} from {Remote}: {Status} {Reason} ({LeftOut} more client errors since the last line)")]
    private static partial void LogBadRequest(ILogger logger, string method, string path, string remote, int status, string reason, long leftOut);

    // Debug: viewers leave mid-request all the time; it is worth a line only when looking for it.
    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} from {Remote}: the client went away mid-request ({Exception}; {LeftOut} more client errors since the last line)")]
    private static partial void LogClientGone(ILogger logger, string method, string path, string remote, string exception, long leftOut);
}
