using Microsoft.Extensions.Logging;
using VideoEdge.Api;
using VideoEdge.Configuration;

namespace VideoEdge.Security;

/// <summary>
/// The gate in front of every endpoint: CORS for listed origins, credentials on everything but
/// /healthz, and the Origin check on WebSocket handshakes.
/// </summary>
public static partial class AccessControl
{
    /// <summary>Open without credentials, so load balancers and systemd-style probes need no secret.</summary>
    public const string HealthPath = "/healthz";

    public static IServiceCollection AddAccessControl(this IServiceCollection services) => services
        .AddSingleton<Refusals>()
        .AddSingleton(sp => new Credentials(sp.GetRequiredService<EdgeOptions>()))
        .AddSingleton(sp => new OriginPolicy(sp.GetRequiredService<EdgeOptions>()));

    public static WebApplication UseAccessControl(this WebApplication app)
    {
        var services = app.Services;
        var options = services.GetRequiredService<EdgeOptions>();
        var credentials = services.GetRequiredService<Credentials>();
        var origins = services.GetRequiredService<OriginPolicy>();
        var refusals = services.GetRequiredService<Refusals>();
        WarnAboutExposure(services.GetRequiredService<ILoggerFactory>().CreateLogger("VideoEdge.Security"), options);

        app.Use(next => context =>
        {
            var request = context.Request;
            var origin = request.Headers.Origin;
            var crossOrigin = origin.Count == 1 && !OriginPolicy.IsSameOrigin(request, origin[0]!);
            if (crossOrigin && origins.IsListed(origin[0]!))
            {
                if (HttpMethods.IsOptions(request.Method) && request.Headers.ContainsKey("Access-Control-Request-Method"))
                {
                    return origins.AnswerPreflightAsync(context, origin[0]!);
                }
                origins.AddCorsHeaders(context.Response, origin[0]!);
            }
            // Producers authenticate to the ingest endpoint with its own secret (--ingest-token), not a viewer's.
            if (request.Path.Equals(HealthPath, StringComparison.Ordinal) || (options.IngestToken is not null && Remote.IngestEndpoint.IsIngestPath(request.Path)))
            {
                return next(context);
            }
            if (credentials.Enabled)
            {
                var outcome = credentials.Check(request);
                if (outcome != Credentials.Outcome.Accepted)
                {
                    // No credentials at all is the first step of a challenge (ffmpeg, VLC and browsers
                    // send them only after this 401): normal, so it is logged at debug; wrong ones warn.
                    var missing = outcome == Credentials.Outcome.Missing;
                    refusals.Record(RefusalReason.Unauthorized, context, missing ? "no credentials" : "wrong credentials",
                        missing ? LogLevel.Debug : LogLevel.Warning);
                    context.Response.Headers.WWWAuthenticate = credentials.Challenge;
                    return ApiProblem.Create(StatusCodes.Status401Unauthorized, "Authentication required",
                        "This camera needs credentials: HTTP Basic, 'Authorization: Bearer TOKEN' or '?token=TOKEN'.").WriteAsync(context);
                }
            }
            if (crossOrigin && IsWebSocketHandshake(request) && !origins.IsListed(origin[0]!))
            {
                refusals.Record(RefusalReason.ForbiddenOrigin, context, TrustedProxies.CameThroughProxy(context)
                    ? $"WebSocket from a page of another origin ({LogText.Safe(origin[0]!)} is not {request.Scheme}://{LogText.Safe(request.Host.Value ?? "")}; a proxy must pass the browser's Host or X-Forwarded-Host; or allow it with --allow-origin)"
                    : $"WebSocket from a page of another origin ({LogText.Safe(origin[0]!)} is not {request.Scheme}://{LogText.Safe(request.Host.Value ?? "")}; behind a reverse proxy see --trusted-proxy; or allow it with --allow-origin)");
                return ApiProblem.Create(StatusCodes.Status403Forbidden, "Origin not allowed",
                    "Pages from this origin may not open this camera's WebSocket; the server's operator can allow it with --allow-origin.").WriteAsync(context);
            }
            return next(context);
        });
        return app;
    }

    // Over HTTP/2 (RFC 8441) a WebSocket opens with an extended CONNECT and carries no Upgrade header.
    private static bool IsWebSocketHandshake(HttpRequest request) =>
        (request.Headers.Upgrade.Count > 0 && request.Headers.Upgrade.ToString().Contains("websocket", StringComparison.OrdinalIgnoreCase))
        || request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>() is { IsExtendedConnect: true };

    private static void WarnAboutExposure(ILogger logger, EdgeOptions options)
    {
        var listen = options.Listen;
        if (listen.IsLoopback)
        {
            return;
        }
        if (!options.AuthEnabled)
        {
            LogOpenToNetwork(logger, listen.ToString());
        }
        else if (options.TlsCertPath is null)
        {
            LogCleartextCredentials(logger, listen.ToString());
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "!!! THE CAMERA IS OPEN TO THE NETWORK: listening on {Listen} with no authentication, so anyone who can reach this address can watch it. Set --auth-user with --auth-password-file, or --auth-token, or listen on 127.0.0.1 (see docs/security.md). !!!")]
    private static partial void LogOpenToNetwork(ILogger logger, string listen);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening on {Listen} without TLS: credentials and video cross the network in clear text. Use --tls-cert/--tls-key or a TLS reverse proxy on untrusted networks.")]
    private static partial void LogCleartextCredentials(ILogger logger, string listen);
}
