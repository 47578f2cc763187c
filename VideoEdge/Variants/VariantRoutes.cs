using VideoEdge.Api;
using VideoEdge.Cameras;

namespace VideoEdge.Variants;

/// <summary>
/// The seam between the routes and the image endpoints (issue 14): with ?width= or ?quality= the
/// endpoint is handed the variant's view of the camera instead of the camera, so /stream.mjpg, /ws and
/// /snapshot.jpg serve a variant without knowing about variants. Without those parameters the
/// endpoint gets the camera exactly as before.
/// </summary>
public static class VariantRoutes
{
    public static Func<HttpContext, Camera, Task> Serve(Func<HttpContext, Camera, Task> endpoint, bool snapshot) => async (context, camera) =>
    {
        if (!VariantKey.TryRead(context, camera.Options, out var key, out var problem))
        {
            await problem!.WriteAsync(context);
            return;
        }
        if (key is not null && !snapshot && context.Request.Query.ContainsKey("adapt"))
        {
            await ApiProblem.BadRequest("adapt with width or quality", "'adapt' picks the width and quality itself; ask for one or the other.").WriteAsync(context);
            return;
        }
        if (key is null)
        {
            await endpoint(context, camera);
            return;
        }
        VariantSet.Lease lease;
        try
        {
            lease = await camera.Variants.AcquireAsync(key.Value, snapshot, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        await using (lease)
        {
            await endpoint(context, lease.View);
        }
    };
}
