using VideoEdge.Cameras;
using VideoEdge.Hosting;
using VideoEdge.Hub;
using VideoEdge.Variants;
using VideoEdge.Security;
using VideoEdge.Viewers;

namespace VideoEdge.Api;

/// <summary>GET /api/state: the camera, its pipeline counters, the frame pool and every viewer.</summary>
public static class StateEndpoint
{
    public static Task HandleAsync(HttpContext context, Camera camera)
    {
        context.Response.Headers.CacheControl = "no-store";
        var limits = LimitsDto.From(context.RequestServices.GetRequiredService<ViewerAdmission>(), context.RequestServices.GetRequiredService<Refusals>());
        return context.Response.WriteAsJsonAsync(Build(camera, limits), EdgeJsonContext.Default.StateDto, contentType: null, context.RequestAborted);
    }

    public static StateDto Build(Camera camera, LimitsDto limits)
    {
        var source = camera.Source;
        var stats = camera.Stats;
        var encoded = stats.Encoded;
        var variants = camera.Variants.Active;
        // A variant's own feed from the camera is not a viewer; the variant's viewers are.
        ClientDto[] clients =
        [
            .. camera.Hub.Viewers.Select(w => w.Client).Where(c => c.Transport != Variant.FeedTransport).Select(c => Client(c, null)),
            .. variants.SelectMany(v => v.Hub.Viewers.Select(w => Client(w.Client, v.Key.ToString()))),
        ];
        return new StateDto(
            camera.Name,
            new SourceDto(source.Kind, source.Description, source.Width, source.Height, camera.Options.Fps,
                stats.CaptureRate.PerSecond, camera.Capture.Online, camera.Capture.OfflineReason, StateName(camera.Capture.State)),
            new EncoderDto(camera.Options.Quality, camera.Options.Slowdown, !camera.Options.Slowdown || camera.Hub.HasDemand),
            new FramesDto(stats.Captured, stats.Published, encoded, stats.Passthrough, stats.Decoded, stats.Dropped, stats.NoSignalFrames,
                camera.Hub.LatestSequence, encoded == 0 ? 0 : Math.Round(stats.EncodeTime.TotalMilliseconds / encoded, 3)),
            new PoolDto(camera.Pool.Rented, camera.Pool.Returned, camera.Pool.Outstanding, camera.Pool.Misuse),
            clients.Length,
            clients,
            new ProcessDto(
                Math.Round(ProcessStart.Uptime.TotalSeconds, 3),
                Environment.WorkingSet,
                GC.GetTotalMemory(false),
                GC.GetTotalAllocatedBytes(false),
                GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
                ThreadCount()),
            limits,
            CameraSettingsDto.From(camera.Options),
            [.. variants.Select(v => new VariantDto(v.Key.ToString(), v.Key.Width, v.Key.Quality, v.Width, v.Height, v.Hub.ViewerCount, v.Encodes, v.Refused,
                v.Encodes == 0 ? 0 : Math.Round(v.EncodeTime.TotalMilliseconds / v.Encodes, 3)))]);
    }

    private static ClientDto Client(ViewerCounters c, string? variant) =>
        new(c.Id, c.Transport, c.Remote, c.ConnectedSince, c.Fps, c.FramesSent, c.FramesSkipped, c.BytesSent, variant);

    /// <summary>live, idle (switched off on demand), offline (a fault; the no-signal picture is shown) or starting.</summary>
    public static string StateName(Sources.CaptureState state) => state switch
    {
        Sources.CaptureState.Live => "live",
        Sources.CaptureState.Idle => "idle",
        Sources.CaptureState.Offline => "offline",
        _ => "starting",
    };

    private static int ThreadCount()
    {
        try
        {
            return Directory.GetDirectories("/proc/self/task").Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
