using System.Globalization;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;
using VideoEdge.Security;

namespace VideoEdge.Api;

/// <summary>What every image endpoint reads from the request: validated query values and the peer.</summary>
public static class ViewerRequest
{
    public const double MaxFps = 240;

    /// <summary>
    /// The slowest cap a viewer may ask for, as for --fps: one frame in ten seconds. Below it the frame
    /// interval outgrows what the send deadline and timers take (?fps=0.0000001 threw mid-stream).
    /// </summary>
    public const double MinFps = 0.1;

    /// <summary>
    /// A number that may appear once in the query, from <paramref name="min"/> to <paramref name="max"/>;
    /// <paramref name="value"/> keeps its default when absent. Otherwise a problem to answer with 400.
    /// </summary>
    public static bool TryReadNumber(HttpContext context, string name, double min, double max, string meaning, ref double value, out ApiProblem? problem)
    {
        problem = null;
        var values = context.Request.Query[name];
        if (values.Count == 0)
        {
            return true;
        }
        if (values.Count == 1
            && double.TryParse(values[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            && number >= min && number <= max)
        {
            value = number;
            return true;
        }
        problem = ApiProblem.BadRequest($"Invalid {name}", $"'{name}' must appear once, as {meaning}.");
        return false;
    }

    /// <summary>What a stream viewer asks for: ?fps (the cap, 0 = none) and ?adapt/?maxage (0 = not adaptive), or a problem to answer with 400.</summary>
    public static bool TryReadStream(HttpContext context, out double fps, out double maxAge, out ApiProblem? problem)
    {
        fps = 0;
        maxAge = 0;
        return TryReadNumber(context, "fps", MinFps, MaxFps, $"a number from {MinFps} to {MaxFps} (frames per second)", ref fps, out problem)
            && Variants.AdaptiveViewer.TryRead(context, out maxAge, out problem);
    }

    /// <summary>
    /// Admits a stream viewer (null: refused, and answered) and gives the one token that ends it: the
    /// viewer left or the server is stopping. Dispose the result when the viewer is done.
    /// </summary>
    public static async Task<Admitted?> AdmitAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var ticket = await services.GetRequiredService<ViewerAdmission>().AdmitAsync(context);
        if (ticket is null)
        {
            return null;
        }
        var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("VideoEdge.Viewers");
        return new Admitted(ticket, CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping), stopping, logger);
    }

    /// <summary>An admitted stream viewer: its admission and its cancellation, released together.</summary>
    public sealed class Admitted(IDisposable ticket, CancellationTokenSource cancellation, CancellationToken stopping, ILogger logger) : IDisposable
    {
        public CancellationTokenSource Cancellation => cancellation;
        public CancellationToken Token => cancellation.Token;
        public CancellationToken Stopping => stopping;
        public ILogger Logger => logger;

        public void Dispose()
        {
            cancellation.Dispose();
            ticket.Dispose();
        }
    }

    /// <summary>Reads a 0/1 switch such as ?fresh=1 or ?meta=1.</summary>
    public static bool TryReadFlag(HttpContext context, string name, out bool value, out ApiProblem? problem)
    {
        value = false;
        problem = null;
        var values = context.Request.Query[name];
        if (values.Count == 0)
        {
            return true;
        }
        if (values.Count == 1 && values[0] is "0" or "1" or "true" or "false" or "")
        {
            value = values[0] is "1" or "true" or "";
            return true;
        }
        problem = ApiProblem.BadRequest($"Invalid {name}", $"'{name}' must be 1 or 0.");
        return false;
    }

    /// <summary>The viewer's address (a trusted proxy's X-Forwarded-For, which usually has no port) for logs and state.</summary>
    public static string Remote(HttpContext context) => Refusals.Describe(context.Connection);

    /// <summary>
    /// Caps the kernel's send buffer for this connection. Left alone it autotunes to megabytes, and a
    /// slow viewer then works through seconds of old frames; bounded, it sees current ones at a lower rate.
    /// </summary>
    public static void LimitSendBuffer(HttpContext context, int bytes)
    {
        if (bytes > 0 && context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            try
            {
                socket.SendBufferSize = bytes;
                if (socket.ProtocolType == System.Net.Sockets.ProtocolType.Tcp && OperatingSystem.IsLinux())
                {
                    // The send buffer alone still holds a whole frame or two ahead of a slow viewer.
                    // TCP_NOTSENT_LOWAT makes the kernel take a frame's bytes only as the ones before
                    // them actually leave, so the next frame is picked when this one is nearly out:
                    // at 20 KB/s a viewer then starts on frames about a second old instead of six.
                    Interop.TcpOptions.SetNotSentLowWater(socket, NotSentLowWater);
                }
            }
            // A viewer that resets right after the upgrade leaves a closed socket behind.
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private const int NotSentLowWater = 16 * 1024;

    public static void NoStore(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store, no-cache, must-revalidate, max-age=0";
        response.Headers.Pragma = "no-cache";
    }
}
