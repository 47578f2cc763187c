using System.Globalization;
using System.Text;

namespace VideoEdge.Bench.Harness;

/// <summary>Markdown tables of medians (over repetitions) and ratios, for BENCHMARKS.md.</summary>
internal static class Report
{
    /// <summary>Each "before" (--baseline-binary) row right above its current build's.</summary>
    private static readonly ServerKind[] s_order = [ServerKind.Floor, ServerKind.UStreamer, ServerKind.VideoEdgeBefore, ServerKind.VideoEdge, ServerKind.VideoEdgeWsBefore, ServerKind.VideoEdgeWs];

    public static string Markdown(BenchReport report, string plotFile)
    {
        var md = new StringBuilder();
        var ms = report.Measurements;
        md.AppendLine(CultureInfo.InvariantCulture, $"Run {report.Started:yyyy-MM-dd HH:mm} UTC, {report.DurationSeconds / 60:F1} min: `{report.Command}`");
        md.AppendLine();
        md.AppendLine("| machine | |");
        md.AppendLine("|---|---|");
        foreach (var (k, v) in report.Machine)
        {
            md.AppendLine($"| {k} | {v} |");
        }
        md.AppendLine();
        md.AppendLine("Every number is the median over the repetitions (runs alternate between servers). CPU is user+system time of the server process inside the measurement window, divided by the frames all viewers received completely in that window. Latency is the viewer's receive time of a frame's last byte minus the fake camera's capture stamp inside the JPEG. \"captured share\" is, for the worst fast viewer, the frames captured inside the window that it received, over all frames captured. Viewer CPU is the load-generating process (one thread, epoll, body bytes discarded in the kernel) as a share of one core.");
        md.AppendLine();

        var sweep = ms.Where(m => m.Group == "sweep").ToList();
        if (sweep.Count > 0)
        {
            var resolution = sweep[0].Resolution;
            md.AppendLine($"### CPU-seconds per 1,000 delivered frames, {resolution} MJPEG, by number of viewers");
            md.AppendLine();
            md.AppendLine($"![CPU per 1,000 delivered frames]({plotFile})");
            md.AppendLine();
            var servers = s_order.Where(s => sweep.Any(m => m.Server == s)).ToArray();
            md.AppendLine("| viewers | " + string.Join(" | ", servers.Select(ServerProcess.Label)) + " | VideoEdge ÷ floor | VideoEdge ÷ µStreamer | WS ÷ MJPEG |");
            md.AppendLine("|---:|" + string.Concat(servers.Select(_ => "---:|")) + "---:|---:|---:|");
            foreach (var clients in sweep.Select(m => m.Clients).Distinct().Order())
            {
                double Cpu(ServerKind s) => Med(sweep.Where(m => m.Server == s && m.Clients == clients), m => m.CpuPer1000Frames);
                md.Append(CultureInfo.InvariantCulture, $"| {clients} |");
                foreach (var s in servers)
                {
                    md.Append(CultureInfo.InvariantCulture, $" {F(Cpu(s), 3)} |");
                }
                md.AppendLine(CultureInfo.InvariantCulture, $" {F(Cpu(ServerKind.VideoEdge) / Cpu(ServerKind.Floor), 2)}× | {F(Cpu(ServerKind.VideoEdge) / Cpu(ServerKind.UStreamer), 2)}× | {F(Cpu(ServerKind.VideoEdgeWs) / Cpu(ServerKind.VideoEdge), 2)}× |");
            }
            md.AppendLine();
            if (sweep.Any(m => BenchOptions.IsBefore(m.Server)))
            {
                AppendBeforeAfter(md, sweep);
            }
        }

        foreach (var scenario in ms.Where(m => m.Group is "sweep" or "resolutions").Select(m => m.Scenario).Distinct())
        {
            AppendScenario(md, ms.Where(m => m.Scenario == scenario && m.Group is "sweep" or "resolutions").ToList(), scenario);
        }
        var slow = ms.Where(m => m.Group == "slow").ToList();
        if (slow.Count > 0)
        {
            AppendSlow(md, slow, ms);
        }
        var soak = ms.Where(m => m.Group == "soak").ToList();
        if (soak.Count > 0)
        {
            // With --baseline-binary the older build runs too: a server column then tells the rows apart.
            var servers = soak.Select(m => m.Server).Distinct().Count() > 1;
            md.AppendLine($"### Steady state: {soak[0].Scenario}, VideoEdge MJPEG");
            md.AppendLine();
            md.AppendLine((servers ? "| server " : "") + "| frames delivered | managed bytes allocated | per delivered frame | GCs gen0/1/2 | RSS at start → end (MB) | peak RSS (MB) | CPU-s/1000 frames | pool frames outstanding |");
            md.AppendLine((servers ? "|---" : "") + "|---:|---:|---:|---|---|---:|---:|---:|");
            foreach (var m in soak.OrderBy(m => Array.IndexOf(s_order, m.Server)))
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"{(servers ? $"| {ServerProcess.Label(m.Server)} " : "")}| {m.Load.DeliveredFrames} | {m.AllocatedBytes?.ToString(CultureInfo.InvariantCulture) ?? "–"} | {F(m.AllocatedPerFrame ?? double.NaN, 1)} | {m.Gen0}/{m.Gen1}/{m.Gen2} | {Mb(m.RssStartBytes)} → {Mb(m.RssBytes)} | {Mb(m.PeakRssBytes)} | {F(m.CpuPer1000Frames, 3)} | {m.PoolOutstanding} |");
            }
            md.AppendLine();
        }
        var ingest = ms.Where(m => m.Group == "ingest").ToList();
        if (ingest.Count > 0)
        {
            AppendIngest(md, ingest);
        }
        if (report.Wakes.Count > 0)
        {
            md.AppendLine("### On demand: first request → first frame of a camera switched off by `--on-demand 1`");
            md.AppendLine();
            md.AppendLine("An MJPEG viewer connects to `/stream.mjpg` once `/api/state` has said `idle` for half a second; the time runs to the end of its first picture captured after the request (X-Timestamp). \"older pictures first\" counts pictures from before the request sent ahead of it.");
            md.AppendLine();
            md.AppendLine("| source | p50 (ms) | min | max | runs | older pictures first | no-signal pictures meanwhile | camera frames (stamped) |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---|");
            foreach (var g in report.Wakes.GroupBy(w => w.Source))
            {
                var stamped = g.Any(w => w.CameraFrame is not null) ? $"{g.Count(w => w.CameraFrame == true)} of {g.Count()}" : "–";
                md.AppendLine(CultureInfo.InvariantCulture, $"| {g.Key} | {F(Stats.Median(g.Select(w => w.Milliseconds)), 0)} | {F(g.Min(w => w.Milliseconds), 0)} | {F(g.Max(w => w.Milliseconds), 0)} | {g.Count()} | {g.Sum(w => w.OlderParts)} | {g.Sum(w => w.NoSignal ?? 0)} | {stamped} |");
            }
            md.AppendLine();
        }
        var yuyv = ms.Where(m => m.Group == "yuyv").ToList();
        if (yuyv.Count > 0)
        {
            md.AppendLine($"### Encoding: {yuyv[0].Scenario.Replace(" 1 clients", "", StringComparison.Ordinal)}, one viewer");
            md.AppendLine();
            md.AppendLine("| server | frames/s delivered | CPU (share of a core) | frames per CPU-second | p50 / p99 latency (ms) |");
            md.AppendLine("|---|---:|---:|---:|---|");
            foreach (var s in s_order.Where(s => yuyv.Any(m => m.Server == s)))
            {
                var g = yuyv.Where(m => m.Server == s).ToList();
                var fps = Med(g, m => m.Load.DeliveredFrames / m.Load.WindowSeconds);
                var share = Med(g, m => m.CpuShare);
                md.AppendLine(CultureInfo.InvariantCulture, $"| {ServerProcess.Label(s)} | {F(fps, 1)} | {F(share * 100, 1)} % | {F(Med(g, m => m.Load.DeliveredFrames / m.CpuSeconds), 0)} | {F(Med(g, m => m.Load.LatencyP50Ms), 1)} / {F(Med(g, m => m.Load.LatencyP99Ms), 1)} |");
            }
            md.AppendLine();
        }
        if (report.Startups.Count > 0)
        {
            md.AppendLine("### Start-up: process start → first complete snapshot");
            md.AppendLine();
            md.AppendLine("| server | source | median (ms) | min | max | RSS then (MB) |");
            md.AppendLine("|---|---|---:|---:|---:|---:|");
            foreach (var g in report.Startups.GroupBy(s => (s.Server, s.Source)))
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {ServerProcess.Label(g.Key.Server).Replace(" MJPEG", "", StringComparison.Ordinal)} | {g.Key.Source} | {F(Stats.Median(g.Select(s => s.Milliseconds)), 0)} | {F(g.Min(s => s.Milliseconds), 0)} | {F(g.Max(s => s.Milliseconds), 0)} | {Mb((long)Stats.Median(g.Select(s => (double)s.RssBytes)))} |");
            }
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>
    /// --baseline-binary: the older build against the current one, each as a multiple of the floor in the same
    /// run (the floor absorbs the machine's load of the moment, so these ratios compare across runs too).
    /// </summary>
    private static void AppendBeforeAfter(StringBuilder md, List<Measurement> sweep)
    {
        md.AppendLine("#### Before → after (`--baseline-binary`): CPU per 1,000 frames as × floor, latency p99");
        md.AppendLine();
        (string Name, ServerKind Before, ServerKind After)[] pairs = [("MJPEG", ServerKind.VideoEdgeBefore, ServerKind.VideoEdge), ("WS", ServerKind.VideoEdgeWsBefore, ServerKind.VideoEdgeWs)];
        var present = pairs.Where(p => sweep.Any(m => m.Server == p.Before) && sweep.Any(m => m.Server == p.After)).ToArray();
        md.AppendLine("| viewers |" + string.Concat(present.Select(p => $" {p.Name} before → after (× floor) | {p.Name} after ÷ before | {p.Name} p99 ms before → after |")));
        md.AppendLine("|---:|" + string.Concat(present.Select(_ => "---|---:|---|")));
        foreach (var clients in sweep.Select(m => m.Clients).Distinct().Order())
        {
            List<Measurement> Of(ServerKind s) => sweep.Where(m => m.Server == s && m.Clients == clients).ToList();
            var floor = Med(Of(ServerKind.Floor), m => m.CpuPer1000Frames);
            md.Append(CultureInfo.InvariantCulture, $"| {clients} |");
            foreach (var (_, before, after) in present)
            {
                var b = Med(Of(before), m => m.CpuPer1000Frames);
                var a = Med(Of(after), m => m.CpuPer1000Frames);
                md.Append(CultureInfo.InvariantCulture,
                    $" {F(b / floor, 2)} → {F(a / floor, 2)} | {F(a / b, 2)}× | {F(Med(Of(before), m => m.Load.LatencyP99Ms), 1)} → {F(Med(Of(after), m => m.Load.LatencyP99Ms), 1)} |");
            }
            md.AppendLine();
        }
        md.AppendLine();
    }

    private static void AppendScenario(StringBuilder md, List<Measurement> ms, string scenario)
    {
        md.AppendLine($"### {scenario}, MJPEG passthrough (WebSocket for \"VideoEdge WS\")");
        md.AppendLine();
        md.AppendLine("| server | CPU-s/1000 frames | × floor | fps per viewer (median / min) | captured share (worst) | p50 / p99 latency (ms) | gaps | RSS idle → loaded, peak (MB) | alloc B/frame, GCs 0/1/2 | viewer CPU | runs |");
        md.AppendLine("|---|---:|---:|---|---:|---|---:|---|---|---:|---:|");
        var floor = Med(ms.Where(m => m.Server == ServerKind.Floor), m => m.CpuPer1000Frames);
        foreach (var s in s_order.Where(s => ms.Any(m => m.Server == s)))
        {
            var g = ms.Where(m => m.Server == s).ToList();
            var cpu = Med(g, m => m.CpuPer1000Frames);
            var alloc = g.Any(m => m.AllocatedPerFrame is not null)
                ? $"{F(Med(g, m => m.AllocatedPerFrame ?? double.NaN), 0)}, {Med(g, m => m.Gen0 ?? 0):F0}/{Med(g, m => m.Gen1 ?? 0):F0}/{Med(g, m => m.Gen2 ?? 0):F0}"
                : "–";
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {ServerProcess.Label(s)} | {F(cpu, 3)} | {F(cpu / floor, 2)} | {F(Med(g, m => m.Load.FastMedianFps), 1)} / {F(Med(g, m => m.Load.FastMinFps), 1)} | {F(Med(g, m => m.Load.FastMinCapturedShare) * 100, 1)} % | {F(Med(g, m => m.Load.LatencyP50Ms), 1)} / {F(Med(g, m => m.Load.LatencyP99Ms), 1)} | {F(Med(g, m => m.Load.FastGaps), 0)} | {Mb(Med(g, m => m.IdleRssBytes))} → {Mb(Med(g, m => m.RssBytes))}, {Mb(Med(g, m => m.PeakRssBytes))} | {alloc} | {F(Med(g, m => m.ViewerCpuShare) * 100, 0)} % | {g.Count}{Failures(g)} |");
        }
        md.AppendLine();
    }

    /// <summary>The same WebSocket viewers fed by the local camera, by a producer pushing to /cams/NAME/ingest, and over NATS.</summary>
    private static void AppendIngest(StringBuilder md, List<Measurement> ms)
    {
        md.AppendLine($"### Ingest: {ms[0].Resolution} frames from another process, WebSocket viewers");
        md.AppendLine();
        md.AppendLine("CPU of the hub process only (the producer, `video-edge push` on the fake camera, and nats-server are other processes). \"× local\" is the ratio to the local camera in the same run. Allocation is the hub's managed bytes over the frames it received inside the window (the bench's two `/api/state` reads, ~4 KB each, are included).");
        md.AppendLine();
        ServerKind[] kinds = [ServerKind.VideoEdgeWs, ServerKind.VideoEdgeIngest, ServerKind.VideoEdgeBus];
        var present = kinds.Where(k => ms.Any(m => m.Server == k)).ToArray();
        md.AppendLine("| viewers | " + string.Join(" | ", present.Select(k => k == ServerKind.VideoEdgeWs ? "local camera" : ServerProcess.Label(k).Replace("VideoEdge WS, ", "", StringComparison.Ordinal) + " (× local)"))
            + " | alloc B per received frame (" + string.Join(" / ", present.Select(k => k == ServerKind.VideoEdgeWs ? "local" : ServerProcess.Label(k).Replace("VideoEdge WS, ", "", StringComparison.Ordinal))) + ") | p50 latency ms (same order) | runs |");
        md.AppendLine("|---:|" + string.Concat(present.Select(_ => "---:|")) + "---|---|---:|");
        foreach (var clients in ms.Select(m => m.Clients).Distinct().Order())
        {
            List<Measurement> Of(ServerKind k) => ms.Where(m => m.Server == k && m.Clients == clients).ToList();
            var local = Med(Of(ServerKind.VideoEdgeWs), m => m.CpuPer1000Frames);
            md.Append(CultureInfo.InvariantCulture, $"| {clients} |");
            foreach (var k in present)
            {
                var cpu = Med(Of(k), m => m.CpuPer1000Frames);
                md.Append(k == ServerKind.VideoEdgeWs ? $" {F(cpu, 3)} |" : $" {F(cpu, 3)} ({F(cpu / local, 2)}×) |");
            }
            md.Append(' ').Append(string.Join(" / ", present.Select(k => F(Med(Of(k), m => m.AllocatedPerReceivedFrame ?? double.NaN), 0)))).Append(" |");
            md.Append(' ').Append(string.Join(" / ", present.Select(k => F(Med(Of(k), m => m.Load.LatencyP50Ms), 1)))).Append(" |");
            md.AppendLine(CultureInfo.InvariantCulture, $" {string.Join(" / ", present.Select(k => Of(k).Count))}{Failures(ms.Where(m => m.Clients == clients).ToList())} |");
        }
        md.AppendLine();
    }

    private static void AppendSlow(StringBuilder md, List<Measurement> slow, List<Measurement> all)
    {
        var first = slow[0];
        md.AppendLine($"### Slow viewers: {first.Scenario}, the slow ones reading 20 KB/s");
        md.AppendLine();
        md.AppendLine("Frame age is the slow viewer's receive time minus the capture stamp, when the picture starts arriving and when it is complete. The \"without\" columns are the same server's fast viewers in the 50-viewer sweep.");
        md.AppendLine();
        md.AppendLine("| server | fast fps (without) | fast p99 ms (without) | slow fps | slow age at start p50 / max (s) | slow age complete p50 / max (s) | RSS start → end (MB) | CPU-s/1000 frames |");
        md.AppendLine("|---|---|---|---:|---|---|---|---:|");
        foreach (var s in s_order.Where(s => slow.Any(m => m.Server == s)))
        {
            var g = slow.Where(m => m.Server == s).ToList();
            var baseline = all.Where(m => m.Group == "sweep" && m.Server == s && m.Clients == first.Clients && m.Resolution == first.Resolution).ToList();
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {ServerProcess.Label(s)} | {F(Med(g, m => m.Load.FastMedianFps), 1)} ({F(Med(baseline, m => m.Load.FastMedianFps), 1)}) | {F(Med(g, m => m.Load.LatencyP99Ms), 1)} ({F(Med(baseline, m => m.Load.LatencyP99Ms), 1)}) | {F(Med(g, m => m.Load.SlowMeanFps), 2)} | {F(Med(g, m => m.Load.SlowAgeStartP50Ms) / 1000, 1)} / {F(Med(g, m => m.Load.SlowAgeStartMaxMs) / 1000, 1)} | {F(Med(g, m => m.Load.SlowAgeEndP50Ms) / 1000, 1)} / {F(Med(g, m => m.Load.SlowAgeEndMaxMs) / 1000, 1)} | {Mb(Med(g, m => m.RssStartBytes))} → {Mb(Med(g, m => m.RssBytes))} | {F(Med(g, m => m.CpuPer1000Frames), 3)} |");
        }
        md.AppendLine();
    }

    private static string Failures(List<Measurement> g)
    {
        var failed = g.Sum(m => m.Load.Failed);
        return failed == 0 ? "" : $" ({failed} viewers failed: {string.Join("; ", g.SelectMany(m => m.Load.Errors).Distinct().Take(2))})";
    }

    public static double Med(IEnumerable<Measurement> ms, Func<Measurement, double> f) => Stats.Median(ms.Select(f));

    private static string F(double v, int digits) => double.IsFinite(v) ? v.ToString("F" + digits, CultureInfo.InvariantCulture) : "–";

    private static string Mb(double bytes) => F(bytes / (1024 * 1024), 1);
}
