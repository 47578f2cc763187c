using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Globalization;
using System.Text.Json;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>
/// A real bottleneck between the server and one viewer: two network namespaces made for this test
/// joined by a veth pair (10.213.0.1 ↔ 10.213.0.2), and a token bucket (tc tbf) on the server's end,
/// so the viewer's TCP sees real queueing and real congestion control. The server listens there
/// through a socket made inside the server's namespace (<see cref="ListenInServerNamespace"/>) and
/// on loopback as usual; viewers run in the viewer's namespace through <c>ip netns exec</c>.
/// Nothing changes in the root namespace: a browser in a parallel test fails requests in flight
/// whenever the machine's addresses change (Chromium: ERR_NETWORK_CHANGED). Needs root (CI runs as
/// root): without it construction fails, loudly.
/// </summary>
public sealed partial class SlowLink : IDisposable
{
    /// <summary>Every namespace this helper makes starts with this, and names the pid that made it.</summary>
    private const string NamespacePrefix = "videoedge-sl-";
    private const int CLONE_NEWNET = 0x40000000;
    private const int O_RDONLY_CLOEXEC = 0x80000;
    private const int F_DUPFD_CLOEXEC = 1030;
    private static int s_next;
    private static int s_swept;

    private SlowLink(string ns, string serverNamespace)
    {
        Namespace = ns;
        ServerNamespace = serverNamespace;
    }

    /// <summary>The viewer's namespace.</summary>
    public string Namespace { get; }
    /// <summary>The server's end of the link, alone in a namespace of its own.</summary>
    public string ServerNamespace { get; }
    /// <summary>The server's side of the link (it listens here, in <see cref="ServerNamespace"/>).</summary>
    public string HostAddress => "10.213.0.1";
    /// <summary>The viewer's address inside the namespace.</summary>
    public string PeerAddress => "10.213.0.2";

    public static string SlowClientScript => Path.Combine(AppContext.BaseDirectory, "Infrastructure", "slow_client.py");

    /// <summary>
    /// Makes the namespaces and the link, shaped to <paramref name="rate"/> (tc syntax: 160kbit, 1mbit)
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
        var ns = $"{NamespacePrefix}{Environment.ProcessId}-{Interlocked.Increment(ref s_next)}";
        var link = new SlowLink(ns, ns + "s");
        try
        {
            Ip($"netns add {link.ServerNamespace}");
            Ip($"netns add {ns}");
            // Made in the server's namespace with its peer straight in the viewer's: the veth never exists in the root one.
            Ip($"-n {link.ServerNamespace} link add host type veth peer name peer netns {ns}");
            Ip($"-n {link.ServerNamespace} addr add {link.HostAddress}/30 dev host");
            Ip($"-n {link.ServerNamespace} link set host up");
            Ip($"-n {link.ServerNamespace} link set lo up");
            Ip($"-n {ns} addr add {link.PeerAddress}/30 dev peer");
            Ip($"-n {ns} link set peer up");
            Ip($"-n {ns} link set lo up");
            // Shaping the server's egress is what a slow downlink looks like to the server.
            Run("tc", $"-n {link.ServerNamespace} qdisc add dev host root tbf rate {rate} burst 8kb limit {limitBytes}");
        }
        catch
        {
            link.Dispose();
            throw;
        }
        return link;
    }

    /// <summary>
    /// A listening TCP socket on <see cref="HostAddress"/> (a free port) inside the server's namespace,
    /// for Kestrel's ListenHandle, which owns it from then on. A socket belongs to the namespace of the
    /// thread that made it, as does every connection it accepts, so a thread of our own enters the
    /// namespace (setns moves only the calling thread), makes the socket and ends.
    /// </summary>
    public (ulong Handle, int Port) ListenInServerNamespace()
    {
        (ulong Handle, int Port) result = default;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                var ns = Open($"/run/netns/{ServerNamespace}", O_RDONLY_CLOEXEC);
                Assert.True(ns >= 0, $"cannot open the namespace {ServerNamespace}: errno {Marshal.GetLastPInvokeError()}");
                var entered = SetNamespace(ns, CLONE_NEWNET);
                var errno = Marshal.GetLastPInvokeError();
                Close(ns);
                Assert.True(entered == 0, $"setns into {ServerNamespace} failed: errno {errno}");
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(IPAddress.Parse(HostAddress), 0));
                socket.Listen(128);
                // Close-on-exec like every socket .NET makes: the programs tests start must not inherit it.
                var copy = DuplicateCloseOnExec((int)socket.Handle, F_DUPFD_CLOEXEC, 0);
                Assert.True(copy >= 0, $"fcntl(F_DUPFD_CLOEXEC) failed: errno {Marshal.GetLastPInvokeError()}");
                result = ((ulong)copy, ((IPEndPoint)socket.LocalEndPoint!).Port);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            throw new InvalidOperationException("could not listen in " + ServerNamespace, failure);
        }
        return result;
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(int fd, int type);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int DuplicateCloseOnExec(int fd, int command, int lowest);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

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
        // Deleting a namespace destroys its veth end and with it the pair (and the qdisc).
        TryRun("ip", $"netns del {Namespace}");
        TryRun("ip", $"netns del {ServerNamespace}");
    }

    /// <summary>Removes namespaces left by earlier runs that crashed (their pid is gone).</summary>
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
