namespace VideoEdge.Api;

/// <summary>An RFC 9457 problem body; every error this server returns has this shape.</summary>
public sealed record ApiProblem(string Type, string Title, int Status, string Detail)
{
    public static ApiProblem Create(int status, string title, string detail) =>
        new("about:blank", title, status, detail);

    public static ApiProblem BadRequest(string title, string detail) => Create(StatusCodes.Status400BadRequest, title, detail);

    public Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = Status;
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsJsonAsync(this, EdgeJsonContext.Default.ApiProblem, "application/problem+json", context.RequestAborted);
    }
}
