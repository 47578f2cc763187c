using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VideoEdge.Bench.Harness;

/// <summary>
/// Issue 14's slow-link scenario: one viewer behind a real bottleneck (a network namespace, a veth
/// pair, tc tbf on the server's end) at 160 kbit/s, 1 Mbit/s and 8 Mbit/s, queue ≈ 0.5 s of the link,
/// each server on the 720p fake camera in turn. The viewer is the tests' slow_client.py run inside the
/// namespace; frame age = arrival − the fake camera's stamp (both this machine's CLOCK_REALTIME).
/// Needs root. `videoedge-bench slowlink [--seconds N] [bench options]`; prints a markdown table.
/// </summary>
internal static class SlowLinkBench
{
    private static readonly (string Rate, int BytesPerSecond)[] s_links = [("160kbit", 20_000), ("1mbit", 125_000), ("8mbit", 1_000_000)];

    public static async Task<int> RunAsync(string[] args)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Console.Error.WriteLine("videoedge-bench slowlink: needs root (ip netns, veth, tc)");
            return 2;
        }
        var seconds = args.Length >= 2 && args[0] == "--seconds" ? double.Parse(args[1], CultureInfo.InvariantCulture) : 25;
        // The rest are the bench's own options (e.g. --videoedge-source test).
        var options = BenchOptions.Parse(args.Length >= 2 && args[0] == "--seconds" ? args[2..] : args);
        var paths = new BenchPaths(null);
        Setup.Prepare(paths, options);
        var script = Path.Combine(paths.Repo, "VideoEdge.Tests", "Infrastructure", "slow_client.py");
        var camera = new CameraSetup("1280x720");
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"Run {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {seconds} s per case, 720p30 passthrough (~120 KB frames), one viewer in a namespace behind tbf (burst 8 kb, queue ≈ 0.5 s of the link):");
        md.AppendLine();
        md.AppendLine("| link | server | fps | frame age p50 / p99 (s) | KB/frame | disconnected | server CPU (s) |");
        md.AppendLine("|---|---|---|---|---|---|---|");
        var index = 0;
        foreach (var (rate, bytesPerSecond) in s_links)
        {
            // ?adapt=1 rows: the server picks a smaller variant for this viewer (issue 14 phase 2).
            foreach (var (kind, adapt) in new[] { (ServerKind.UStreamer, false), (ServerKind.VideoEdge, false), (ServerKind.VideoEdgeWs, false),
                (ServerKind.VideoEdge, true), (ServerKind.VideoEdgeWs, true) })
            {
                var limit = Math.Max(16384, bytesPerSecond / 2);
                using var link = Link.Create(rate, limit, index++);
                using var server = ServerProcess.Start(kind, camera, paths, options, host: link.HostAddress);
                var path = (kind == ServerKind.VideoEdgeWs ? "/ws?meta=1" : server.StreamPath) + (adapt ? (kind == ServerKind.VideoEdgeWs ? "&adapt=1" : "?adapt=1") : "");
                await WaitReadyAsync(link.HostAddress, server.Port, server.SnapshotPath ?? server.StreamPath);
                var cpuBefore = ProcSample.CpuSeconds(server.Pid);
                var frames = new List<(double Age, int Bytes)>();
                var end = await ViewAsync(link, script, kind == ServerKind.VideoEdgeWs ? "ws" : "mjpeg", $"http://{link.HostAddress}:{server.Port}{path}", seconds, frames);
                var cpu = ProcSample.CpuSeconds(server.Pid) - cpuBefore;
                var ages = frames.Select(f => f.Age).Order().ToArray();
                string P(double q) => ages.Length == 0 ? "–" : ages[Math.Min(ages.Length - 1, (int)(q * ages.Length))].ToString("0.0", CultureInfo.InvariantCulture);
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {rate} | {ServerProcess.Label(kind)}{(adapt ? " adapt=1" : "")} | {frames.Count / seconds:0.00} | {P(0.5)} / {P(0.99)} | {(frames.Count == 0 ? 0 : frames.Average(f => f.Bytes) / 1000):0} | {(end == "time" ? "no" : "**yes** (" + end + ")")} | {cpu:0.00} |");
                Setup.Log($"{rate} {kind}{(adapt ? " adapt" : "")}: {frames.Count} frames, end {end}");
            }
        }
        Console.Out.Write(md.ToString());
        return 0;
    }

    private static async Task WaitReadyAsync(string host, int port, string path)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var response = await http.GetAsync($"http://{host}:{port}{path}", HttpCompletionOption.ResponseHeadersRead);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"no picture from {host}:{port}{path} in 30 s");
    }

    private static async Task<string> ViewAsync(Link link, string script, string kind, string url, double seconds, List<(double Age, int Bytes)> frames)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", link.Namespace, "/usr/bin/python3", script, kind, url, seconds.ToString(CultureInfo.InvariantCulture)])
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 30));
        var end = "none";
        try
        {
            while (await process.StandardOutput.ReadLineAsync(limit.Token) is { } line)
            {
                using var doc = JsonDocument.Parse(line);
                var e = doc.RootElement;
                if (e.TryGetProperty("end", out var en))
                {
                    end = en.GetString()!;
                }
                else if (e.TryGetProperty("arrival", out var arrival))
                {
                    frames.Add((arrival.GetDouble() - e.GetProperty("ts").GetDouble(), e.GetProperty("bytes").GetInt32()));
                }
            }
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            end = "hung";
        }
        return end;
    }

    /// <summary>The namespace, veth pair and tbf of one case (the tests' SlowLink, trimmed); deleted on dispose.</summary>
    private sealed class Link : IDisposable
    {
        public required string Namespace { get; init; }
        public required string HostDevice { get; init; }
        public required string HostAddress { get; init; }

        public static Link Create(string rate, int limitBytes, int index)
        {
            var pid = Environment.ProcessId;
            var ns = $"videoedge-bench-{pid}-{index}";
            var stem = "vsb" + (pid % 0x100000).ToString("x", CultureInfo.InvariantCulture) + index.ToString("x2", CultureInfo.InvariantCulture);
            var b = (8192 + pid % 4096 + index) * 4 % 65536;
            var (host, peer) = ($"10.213.{b >> 8}.{(b & 255) + 1}", $"10.213.{b >> 8}.{(b & 255) + 2}");
            var link = new Link { Namespace = ns, HostDevice = stem + "h", HostAddress = host };
            try
            {
                Run($"ip netns add {ns}");
                Run($"ip link add {stem}h type veth peer name {stem}p");
                Run($"ip link set {stem}p netns {ns}");
                Run($"ip addr add {host}/30 dev {stem}h");
                Run($"ip link set {stem}h up");
                Run($"ip -n {ns} addr add {peer}/30 dev {stem}p");
                Run($"ip -n {ns} link set {stem}p up");
                Run($"ip -n {ns} link set lo up");
                Run($"tc qdisc add dev {stem}h root tbf rate {rate} burst 8kb limit {limitBytes}");
            }
            catch
            {
                link.Dispose();
                throw;
            }
            return link;
        }

        private static void Run(string command)
        {
            var parts = command.Split(' ', 2);
            if (Setup.Run(parts[0], parts[1].Split(' '), check: false) != 0)
            {
                throw new InvalidOperationException("failed: " + command);
            }
        }

        public void Dispose()
        {
            Setup.Run("ip", ["netns", "del", Namespace], check: false);
            Setup.Run("ip", ["link", "del", HostDevice], check: false);
        }
    }
}
