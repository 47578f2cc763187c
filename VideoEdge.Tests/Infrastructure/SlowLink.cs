using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>
/// A real bottleneck between the server and one viewer: a network namespace made for this test, a
/// veth pair with a private /30 (10.213.x.y), and a token bucket (tc tbf) on the server's end, so the
/// viewer's TCP sees real queueing and real congestion control. The server listens on
/// <see cref="HostAddress"/> in the root namespace; viewers run inside the namespace through
/// <c>ip netns exec</c>. Needs root (CI runs as root): without it construction fails, loudly.
/// </summary>
public sealed class SlowLink : IDisposable
{
    /// <summary>Every namespace and veth this helper makes starts with these, and names the pid that made it.</summary>
    private const string NamespacePrefix = "videoedge-sl-";
    private const string VethPrefix = "vsl";
    private static int s_next;
    private static int s_swept;

    private SlowLink(string ns, string hostDevice, string hostAddress, string peerAddress)
    {
        Namespace = ns;
        HostDevice = hostDevice;
        HostAddress = hostAddress;
        PeerAddress = peerAddress;
    }

    public string Namespace { get; }
    public string HostDevice { get; }
    /// <summary>The server's side of the link (listen here).</summary>
    public string HostAddress { get; }
    /// <summary>The viewer's address inside the namespace.</summary>
    public string PeerAddress { get; }

    public static string SlowClientScript => Path.Combine(AppContext.BaseDirectory, "Infrastructure", "slow_client.py");

    /// <summary>
    /// Makes the namespace and the link, shaped to <paramref name="rate"/> (tc syntax: 160kbit, 1mbit)
    /// with a queue of <paramref name="limitBytes"/> in front of it.
    /// </summary>
    public static SlowLink Create(string rate, int limitBytes)
    {
        Assert.True(Environment.IsPrivilegedProcess,
            "Slow-link tests need root (ip netns, veth, tc). CI runs the suite as root; run `sudo ./test.sh` or `sudo dotnet test`.");
        if (Interlocked.Exchange(ref s_swept, 1) == 0)
        {
            SweepStale();
        }
        var pid = Environment.ProcessId;
        var n = Interlocked.Increment(ref s_next);
        var ns = $"{NamespacePrefix}{pid}-{n}";
        // Interface names are at most 15 bytes: vsl + pid (hex, ≤ 6) + n (hex, 2) + h|p.
        var stem = VethPrefix + pid.ToString("x", CultureInfo.InvariantCulture) + (n & 0xFF).ToString("x2", CultureInfo.InvariantCulture);
        var (host, peer) = (stem + "h", stem + "p");
        // A /30 per link: 10.213.0.0/16 holds 16384 of them; start from the pid so parallel runs rarely meet, skip any in use.
        var used = Ip("-o addr show");
        string hostAddress = "", peerAddress = "";
        for (var i = 0; i < 16384; i++)
        {
            var index = (pid * 7 + n + i) % 16384;
            var b = index * 4;
            hostAddress = $"10.213.{b >> 8}.{(b & 255) + 1}";
            peerAddress = $"10.213.{b >> 8}.{(b & 255) + 2}";
            if (!used.Contains(hostAddress + "/", StringComparison.Ordinal) && !used.Contains(peerAddress + "/", StringComparison.Ordinal))
            {
                break;
            }
        }
        var link = new SlowLink(ns, host, hostAddress, peerAddress);
        try
        {
            Ip($"netns add {ns}");
            Ip($"link add {host} type veth peer name {peer}");
            Ip($"link set {peer} netns {ns}");
            Ip($"addr add {hostAddress}/30 dev {host}");
            Ip($"link set {host} up");
            Ip($"-n {ns} addr add {peerAddress}/30 dev {peer}");
            Ip($"-n {ns} link set {peer} up");
            Ip($"-n {ns} link set lo up");
            // Shaping the server's egress is what a slow downlink looks like to the server.
            Run("tc", $"qdisc add dev {host} root tbf rate {rate} burst 8kb limit {limitBytes}");
        }
        catch
        {
            link.Dispose();
            throw;
        }
        return link;
    }

    /// <summary>Runs <paramref name="program"/> inside the namespace; the caller disposes (kills) it.</summary>
    public Process Start(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in (string[])["netns", "exec", Namespace, program, .. arguments])
        {
            info.ArgumentList.Add(a);
        }
        return Process.Start(info) ?? throw new InvalidOperationException("could not start ip netns exec");
    }

    /// <summary>
    /// Runs slow_client.py in the namespace against <paramref name="url"/> for <paramref name="seconds"/>
    /// and returns what it saw (every frame, then how it ended). Bounded: killed after seconds + 30.
    /// When <paramref name="stop"/> fires first, the viewer is killed and the result ends "stopped":
    /// it was still connected then (a close or an error would have ended it with its own line).
    /// </summary>
    public async Task<SlowViewerResult> ViewAsync(string kind, string url, double seconds, CancellationToken stop = default)
    {
        using var process = Start("/usr/bin/python3", SlowClientScript, kind, url, seconds.ToString(CultureInfo.InvariantCulture));
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 30));
        using var either = CancellationTokenSource.CreateLinkedTokenSource(limit.Token, stop);
        try
        {
            while (await process.StandardOutput.ReadLineAsync(either.Token) is { } line)
            {
                lines.Add(line);
            }
            await process.WaitForExitAsync(either.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            lines.Add(stop.IsCancellationRequested && !limit.IsCancellationRequested
                ? "{\"end\":\"stopped\",\"detail\":\"stopped by the test while still connected\"}"
                : "{\"end\":\"error\",\"detail\":\"the viewer did not finish in time\"}");
        }
        return SlowViewerResult.Parse(lines, await stderr);
    }

    public void Dispose()
    {
        // Deleting the namespace destroys its veth end and with it the pair (and the qdisc on our end).
        TryRun("ip", $"netns del {Namespace}");
        TryRun("ip", $"link del {HostDevice}");
    }

    /// <summary>Removes namespaces and links left by earlier runs that crashed (their pid is gone).</summary>
    private static void SweepStale()
    {
        foreach (var line in TryRun("ip", "netns list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (name.StartsWith(NamespacePrefix, StringComparison.Ordinal)
                && int.TryParse(name[NamespacePrefix.Length..].Split('-')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var owner)
                && !Directory.Exists($"/proc/{owner}"))
            {
                TryRun("ip", $"netns del {name}");
            }
        }
        foreach (var line in TryRun("ip", "-o link show").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "7: vsl1a2b01h@if6: <...>"
            var parts = line.Split(':', 3);
            if (parts.Length < 2)
            {
                continue;
            }
            var name = parts[1].Trim().Split('@')[0];
            if (name.StartsWith(VethPrefix, StringComparison.Ordinal) && name.Length > VethPrefix.Length + 3
                && int.TryParse(name.AsSpan(VethPrefix.Length, name.Length - VethPrefix.Length - 3), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var owner)
                && !Directory.Exists($"/proc/{owner}"))
            {
                TryRun("ip", $"link del {name}");
            }
        }
    }

    private static string Ip(string arguments) => Run("ip", arguments);

    private static string Run(string program, string arguments)
    {
        var (code, output) = Exec(program, arguments);
        Assert.True(code == 0, $"`{program} {arguments}` failed ({code}): {output}");
        return output;
    }

    private static string TryRun(string program, string arguments) => Exec(program, arguments).Output;

    private static (int Code, string Output) Exec(string program, string arguments)
    {
        var info = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>One frame as the slow viewer received it; both times on this machine's clock.</summary>
public sealed record SlowFrame(double Arrival, double Timestamp, int Bytes, long Sequence, int Width, int Height)
{
    public double AgeSeconds => Arrival - Timestamp;
}

/// <summary>What a slow_client.py run saw: the response status, every frame, how it ended.</summary>
public sealed record SlowViewerResult(int Status, IReadOnlyList<SlowFrame> Frames, string End, string Detail, string Stderr)
{
    public static SlowViewerResult Parse(IReadOnlyList<string> lines, string stderr)
    {
        var status = 0;
        var frames = new List<SlowFrame>();
        string end = "none", detail = "";
        foreach (var line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var e = doc.RootElement;
            if (e.TryGetProperty("status", out var s))
            {
                status = s.GetInt32();
            }
            else if (e.TryGetProperty("end", out var en))
            {
                end = en.GetString()!;
                detail = e.GetProperty("detail").GetString() ?? "";
            }
            else
            {
                frames.Add(new SlowFrame(e.GetProperty("arrival").GetDouble(), e.GetProperty("ts").GetDouble(), e.GetProperty("bytes").GetInt32(),
                    e.GetProperty("seq").GetInt64(), e.GetProperty("width").GetInt32(), e.GetProperty("height").GetInt32()));
            }
        }
        return new SlowViewerResult(status, frames, end, detail, stderr);
    }

    /// <summary>The viewer was still connected when its time was up.</summary>
    public bool StayedConnected => End == "time";

    public string Describe() =>
        $"status {Status}, {Frames.Count} frames, end={End} {Detail}; ages [{string.Join(", ", Frames.Select(f => f.AgeSeconds.ToString("0.0", CultureInfo.InvariantCulture)))}] s; bytes/frame {(Frames.Count == 0 ? 0 : Frames.Average(f => f.Bytes)):0}; {Stderr}";
}
