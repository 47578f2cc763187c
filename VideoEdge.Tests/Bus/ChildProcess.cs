using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace VideoEdge.Tests.Bus;

/// <summary>A Debian daemon (nats-server, haproxy) run in the foreground by a test on a loopback port.</summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly StringBuilder _output = new();
    private Process? _process;

    private ChildProcess(string file, IReadOnlyList<string> args, int port)
    {
        File_ = file;
        Args = args;
        Port = port;
    }

    private string File_ { get; }
    private IReadOnlyList<string> Args { get; }
    public int Port { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>A port that was free a moment ago (the daemons cannot be told to pick one and say which).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task<ChildProcess> StartAsync(string file, IReadOnlyList<string> args, int port)
    {
        var child = new ChildProcess(file, args, port);
        await child.StartAgainAsync();
        return child;
    }

    /// <summary>Starts (again, after <see cref="KillAsync"/>) on the same port, and waits until it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo(File_) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in Args)
        {
            info.ArgumentList.Add(a);
        }
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            Assert.False(process.HasExited, $"{File_} exited: {Output}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    /// <summary>Debian's nats-server on a free loopback port, with an optional config file's text.</summary>
    public static Task<ChildProcess> NatsServerAsync(string? token = null, string? config = null)
    {
        var port = FreePort();
        List<string> args = ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        if (token is not null)
        {
            args.AddRange(["--auth", token]);
        }
        if (config is not null)
        {
            var path = Path.Combine(Path.GetTempPath(), $"nats-{port}.conf");
            File.WriteAllText(path, config);
            args.AddRange(["-c", path]);
        }
        return StartAsync("nats-server", args, port);
    }

    /// <summary>Debian's HAProxy in the foreground, round-robin over <paramref name="backends"/>, as docs/scaling-out.md shows.</summary>
    public static Task<ChildProcess> HaProxyAsync(IEnumerable<int> backends)
    {
        var port = FreePort();
        var config = HaProxyConfig(port, backends);
        var path = Path.Combine(Path.GetTempPath(), $"haproxy-{port}.cfg");
        File.WriteAllText(path, config);
        return StartAsync("haproxy", ["-db", "-f", path], port);
    }

    public static string HaProxyConfig(int port, IEnumerable<int> backends)
    {
        var config = new StringBuilder($$"""
            global
                maxconn 4096

            defaults
                mode http
                timeout connect 2s
                # Streams run for hours: no client/server inactivity cut while frames flow.
                timeout client 1h
                timeout server 1h
                # A hub that died: try the connection again, on another hub.
                retries 3
                option redispatch

            frontend viewers
                bind 127.0.0.1:{{port}}
                default_backend hubs

            backend hubs
                balance roundrobin
                option httpchk GET /healthz
                default-server check inter 500ms fall 2 rise 2

            """);
        var i = 0;
        foreach (var backend in backends)
        {
            config.AppendLine($"    server hub{++i} 127.0.0.1:{backend}");
        }
        return config.ToString();
    }
}
