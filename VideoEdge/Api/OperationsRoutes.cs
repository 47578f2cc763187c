using VideoEdge.Security;

namespace VideoEdge.Api;

/// <summary>The endpoints for operators rather than viewers: the health probe and Prometheus metrics.</summary>
public static class OperationsRoutes
{
    private static readonly string[] GetHead = ["GET", "HEAD"];

    public static IEndpointRouteBuilder MapOperationsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods(AccessControl.HealthPath, GetHead, ctx => HealthEndpoint.HandleAsync(ctx));
        app.MapMethods("/metrics", GetHead, ctx => MetricsEndpoint.HandleAsync(ctx));
        return app;
    }
}
