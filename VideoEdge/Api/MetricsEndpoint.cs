using System.Buffers.Text;
using VideoEdge.Cameras;
using VideoEdge.Hosting;
using VideoEdge.Security;
using VideoEdge.Viewers;

namespace VideoEdge.Api;

/// <summary>
/// GET /metrics: every camera's pipeline counters, its viewers by transport, the encode-time
/// histogram, the frame pool, plus the process-wide stream limits and refusals, in Prometheus text format.
/// Names follow Prometheus' conventions: base units (seconds, bytes) as suffix, counters end in
/// _total, and rates are left to the scraper (rate(videoedge_frames_captured_total[1m]) is the fps).
/// </summary>
public static class MetricsEndpoint
{
    private static readonly string[] s_transports = ["mjpeg", "websocket", "websocket+meta"];

    public static async Task HandleAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = PrometheusWriter.ContentType;
        response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        var services = context.RequestServices;
        Write(new PrometheusWriter(response.BodyWriter), services.GetRequiredService<CameraSet>(),
            services.GetRequiredService<ViewerAdmission>(), services.GetRequiredService<Refusals>());
        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public static void Write(PrometheusWriter w, CameraSet cameras, ViewerAdmission admission, Refusals refusals)
    {
        // One array up front: foreach over the IReadOnlyList would allocate an enumerator per family.
        Camera[] all = [.. cameras.All];
        var camera = "camera"u8;

        PerCamera(w, all, "videoedge_frames_captured_total"u8, "counter"u8, "Frames read from the source."u8, static c => c.Stats.Captured);
        PerCamera(w, all, "videoedge_frames_published_total"u8, "counter"u8, "Frames handed to viewers (captured and usable)."u8, static c => c.Stats.Published);
        PerCamera(w, all, "videoedge_frames_encoded_total"u8, "counter"u8, "Frames JPEG-encoded by this process."u8, static c => c.Stats.Encoded);
        PerCamera(w, all, "videoedge_frames_passthrough_total"u8, "counter"u8, "MJPEG camera frames passed through without re-encoding."u8, static c => c.Stats.Passthrough);
        PerCamera(w, all, "videoedge_frames_dropped_total"u8, "counter"u8, "Frames the source delivered but that could not be used (truncated, not a JPEG, too large)."u8, static c => c.Stats.Dropped);
        PerCamera(w, all, "videoedge_frames_nosignal_total"u8, "counter"u8, "No-signal pictures published while the source was unavailable."u8, static c => c.Stats.NoSignalFrames);
        PerCamera(w, all, "videoedge_viewer_frames_sent_total"u8, "counter"u8, "Frames sent to viewers and snapshot clients."u8, static c => c.Stats.FramesSent);
        PerCamera(w, all, "videoedge_viewer_frames_skipped_total"u8, "counter"u8, "Frames viewers skipped because they were still busy with an older one."u8, static c => c.Stats.FramesSkipped);
        PerCamera(w, all, "videoedge_sent_bytes_total"u8, "counter"u8, "JPEG bytes sent to viewers and snapshot clients."u8, static c => c.Stats.BytesSent);
        w.Family("videoedge_clients"u8, "gauge"u8, "Viewers connected now, by transport."u8);
        foreach (var c in all)
        {
            var viewers = c.Hub.Viewers;
            foreach (var transport in s_transports)
            {
                long n = 0;
                for (var i = 0; i < viewers.Count; i++)
                {
                    n += viewers[i].Client.Transport == transport ? 1 : 0;
                }
                // Viewers of a ?width=/?quality= variant watch the variant's hub.
                foreach (var variant in c.Variants.Active)
                {
                    foreach (var waiter in variant.Hub.Viewers)
                    {
                        n += waiter.Client.Transport == transport ? 1 : 0;
                    }
                }
                w.Sample("videoedge_clients"u8, camera, c.Name, "transport"u8, transport, n);
            }
        }
        PerCamera(w, all, "videoedge_variants"u8, "gauge"u8, "?width=/?quality= variants in use now (made when first asked for, dropped when nobody uses them)."u8, static c => c.Variants.Active.Count);
        PerCamera(w, all, "videoedge_variant_frames_encoded_total"u8, "counter"u8, "Frames decoded, resized and encoded for variants, dropped variants included."u8, static c => c.Variants.EncodesTotal);
        w.Family("videoedge_variant_encodes_total"u8, "counter"u8, "Frames encoded per variant in use (one encode serves all of its viewers)."u8);
        foreach (var c in all)
        {
            foreach (var variant in c.Variants.Active)
            {
                w.Sample("videoedge_variant_encodes_total"u8, camera, c.Name, "variant"u8, variant.Key.ToString(), variant.Encodes);
            }
        }
        PerCamera(w, all, "videoedge_source_online"u8, "gauge"u8, "1 unless the source has failed (0 while the no-signal picture is shown); an idle camera (--on-demand) counts as online."u8, static c => c.Capture.Online ? 1L : 0L);
        PerCamera(w, all, "videoedge_source_idle"u8, "gauge"u8, "1 while the camera is switched off on demand (--on-demand: nobody watching), else 0."u8, static c => c.Capture.State == Sources.CaptureState.Idle ? 1L : 0L);
        w.Family("videoedge_capture_progress_age_seconds"u8, "gauge"u8, "Seconds since the capture loop last produced a frame or no-signal picture (/healthz fails past 5)."u8);
        var now = Environment.TickCount64;
        foreach (var c in all)
        {
            w.Sample("videoedge_capture_progress_age_seconds"u8, camera, c.Name, (now - c.Stats.LastProgress) / 1000.0);
        }
        w.Family("videoedge_encode_duration_seconds"u8, "histogram"u8, "Time to JPEG-encode one frame."u8);
        foreach (var c in all)
        {
            var histogram = c.Stats.EncodeTimes;
            var bounds = DurationHistogram.BoundsSeconds;
            long cumulative = 0;
            for (var i = 0; i < histogram.BucketCount; i++)
            {
                cumulative += histogram.CountIn(i);
                w.Bucket("videoedge_encode_duration_seconds"u8, camera, c.Name, i < bounds.Length ? bounds[i] : double.PositiveInfinity, cumulative);
            }
            w.Sample("videoedge_encode_duration_seconds_sum"u8, camera, c.Name, histogram.Sum.TotalSeconds);
            w.Sample("videoedge_encode_duration_seconds_count"u8, camera, c.Name, cumulative);
        }
        PerCamera(w, all, "videoedge_pool_frames_outstanding"u8, "gauge"u8, "Frame buffers rented and not yet returned (the hub holds the latest one)."u8, static c => c.Pool.Outstanding);
        PerCamera(w, all, "videoedge_pool_misuse_total"u8, "counter"u8, "References taken or released on frames already back in the pool (a bug if ever above 0)."u8, static c => c.Pool.Misuse);

        w.Family("videoedge_streams"u8, "gauge"u8, "MJPEG and WebSocket streams running now, over all cameras."u8);
        w.Sample("videoedge_streams"u8, admission.Active);
        w.Family("videoedge_streams_max"u8, "gauge"u8, "The --max-clients limit."u8);
        w.Sample("videoedge_streams_max"u8, admission.MaxClients);
        w.Family("videoedge_refusals_total"u8, "counter"u8, "Requests turned away, by reason."u8);
        var reason = "reason"u8;
        w.Sample("videoedge_refusals_total"u8, reason, "max_clients", refusals[RefusalReason.TooManyClients]);
        w.Sample("videoedge_refusals_total"u8, reason, "max_clients_per_ip", refusals[RefusalReason.TooManyFromAddress]);
        w.Sample("videoedge_refusals_total"u8, reason, "unauthorized", refusals[RefusalReason.Unauthorized]);
        w.Sample("videoedge_refusals_total"u8, reason, "forbidden_origin", refusals[RefusalReason.ForbiddenOrigin]);
        w.Sample("videoedge_refusals_total"u8, reason, "ingest_token", refusals[RefusalReason.IngestToken]);
        w.Family("process_resident_memory_bytes"u8, "gauge"u8, "Resident memory size in bytes."u8);
        w.Sample("process_resident_memory_bytes"u8, ResidentBytes());
        w.Family("process_start_time_seconds"u8, "gauge"u8, "Start time of the process since unix epoch in seconds."u8);
        w.Sample("process_start_time_seconds"u8, ProcessStart.UnixSeconds);
    }

    /// <summary>
    /// A family with one sample per camera, labelled camera="name". The value readers are static
    /// lambdas (cached delegates), so a scrape allocates nothing for them.
    /// </summary>
    private static void PerCamera(PrometheusWriter w, Camera[] all, ReadOnlySpan<byte> name, ReadOnlySpan<byte> type, ReadOnlySpan<byte> help, Func<Camera, long> value)
    {
        w.Family(name, type, help);
        foreach (var c in all)
        {
            w.Sample(name, "camera"u8, c.Name, value(c));
        }
    }

    /// <summary>
    /// Resident set size from /proc/self/statm (second field, in pages), parsed on the stack;
    /// Environment.WorkingSet reads the same via a few KB of strings per call.
    /// </summary>
    private static long ResidentBytes()
    {
        Span<byte> statm = stackalloc byte[128];
        try
        {
            using var handle = File.OpenHandle("/proc/self/statm");
            var fields = statm[..RandomAccess.Read(handle, statm, 0)];
            fields = fields[(fields.IndexOf((byte)' ') + 1)..];
            if (Utf8Parser.TryParse(fields, out long pages, out _))
            {
                return pages * Environment.SystemPageSize;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return Environment.WorkingSet;
    }
}
