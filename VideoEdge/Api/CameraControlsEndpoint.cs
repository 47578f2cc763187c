using VideoEdge.Sources;
using System.Text.Json;
using VideoEdge.Cameras;
using VideoEdge.Sources.V4l2;

namespace VideoEdge.Api;

public sealed record ControlsDto(string Camera, string Device, ControlDto[] Controls);

public sealed record ControlDto(string Name, string Label, uint Id, string Type, int Minimum, int Maximum, int Step, int Default,
    int? Value, bool ReadOnly, bool Inactive, MenuItemDto[] Menu)
{
    public static ControlDto From(V4l2ControlInfo c) => new(c.Name, c.Label, c.Id, c.Type, c.Minimum, c.Maximum, c.Step, c.Default,
        c.Value, c.ReadOnly, c.Inactive, [.. c.Menu.Select(m => new MenuItemDto(m.Index, m.Name))]);
}

public sealed record MenuItemDto(int Value, string Name);

/// <summary>The body of PUT /api/camera/controls/{name}.</summary>
public sealed record ControlValueDto(int? Value);

/// <summary>
/// GET /api/camera/controls lists a V4L2 camera's controls (brightness, exposure, …) with their
/// ranges and current values; PUT /api/camera/controls/{name} with {"value": N} sets one.
/// </summary>
public static class CameraControlsEndpoint
{
    public static Task ListAsync(HttpContext context, Camera camera)
    {
        if ((camera.Source as V4l2Source)?.Controls is not { } controls)
        {
            return NoControls(camera).WriteAsync(context);
        }
        var list = controls.List();
        if (list is null || camera.Capture.State != CaptureState.Live)
        {
            return Offline(context, camera).WriteAsync(context);
        }
        context.Response.Headers.CacheControl = "no-store";
        var body = new ControlsDto(camera.Name, camera.Source.Description, [.. list.Select(ControlDto.From)]);
        return context.Response.WriteAsJsonAsync(body, EdgeJsonContext.Default.ControlsDto, contentType: null, context.RequestAborted);
    }

    public static async Task SetAsync(HttpContext context, Camera camera)
    {
        if ((camera.Source as V4l2Source)?.Controls is not { } controls)
        {
            await NoControls(camera).WriteAsync(context);
            return;
        }
        var name = context.Request.RouteValues["control"] as string ?? "";
        ControlValueDto? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, EdgeJsonContext.Default.ControlValueDto, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await ApiProblem.BadRequest("Invalid body", $"Send JSON like {{\"value\": 10}} ({ex.Message})").WriteAsync(context);
            return;
        }
        if (body?.Value is not { } value)
        {
            await ApiProblem.BadRequest("Invalid body", "Send JSON like {\"value\": 10} with an integer value.").WriteAsync(context);
            return;
        }
        if (camera.Capture.State != CaptureState.Live)
        {
            await Offline(context, camera).WriteAsync(context);
            return;
        }
        var result = controls.Set(name, value);
        switch (result.Status)
        {
            case ControlSetStatus.Set:
                context.Response.Headers.CacheControl = "no-store";
                await context.Response.WriteAsJsonAsync(ControlDto.From(result.Control!), EdgeJsonContext.Default.ControlDto, contentType: null, context.RequestAborted);
                return;
            case ControlSetStatus.Unknown:
                await ApiProblem.Create(StatusCodes.Status404NotFound, "Unknown control",
                    $"Camera '{camera.Name}' has no control '{name}'; GET the controls list for the names.").WriteAsync(context);
                return;
            case ControlSetStatus.OutOfRange:
                await ApiProblem.BadRequest("Value out of range", result.Detail + ".").WriteAsync(context);
                return;
            case ControlSetStatus.ReadOnly:
                await ApiProblem.BadRequest("Read-only control", result.Detail + ".").WriteAsync(context);
                return;
            case ControlSetStatus.Refused:
                await ApiProblem.Create(StatusCodes.Status409Conflict, "Control not set", result.Detail + ".").WriteAsync(context);
                return;
            default:
                await Offline(context, camera).WriteAsync(context);
                return;
        }
    }

    private static ApiProblem NoControls(Camera camera) => ApiProblem.Create(StatusCodes.Status404NotFound, "No camera controls",
        $"Camera '{camera.Name}' is a {camera.Source.Kind} source; controls exist only for V4L2 cameras (--source /dev/videoN).");

    private static ApiProblem Offline(HttpContext context, Camera camera)
    {
        context.Response.Headers.RetryAfter = "1";
        return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, "Camera offline",
            $"Camera '{camera.Name}' ({camera.Source.Description}) is not available: {camera.Capture.OfflineReason ?? (camera.Capture.State == CaptureState.Idle ? "switched off on demand; open its stream to switch it on" : "reopening")}.");
    }
}
