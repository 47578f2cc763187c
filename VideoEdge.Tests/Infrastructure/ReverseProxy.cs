using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using VideoEdge.Tests.Deployment;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>
/// A real nginx or Caddy (Debian packages) in front of the app, on a free loopback port, with its
/// configuration, pid, logs and temp files in a folder of its own that is removed afterwards.
/// </summary>
public sealed partial class ReverseProxy : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _dir;
    private readonly StringBuilder _output = new();

    private ReverseProxy(Process process, DirectoryInfo dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }
    public string Folder => _dir.FullName;

    /// <summary>The proxy's error log and console output, for assertion messages.</summary>
    public string Log
    {
        get
        {
            var errorLog = Path.Combine(_dir.FullName, "error.log");
            lock (_output)
            {
                return (File.Exists(errorLog) ? File.ReadAllText(errorLog) : "") + _output;
            }
        }
    }

    /// <summary>
    /// nginx with one server on 127.0.0.1:PORT whose body is <paramref name="serverBody"/>
    /// ({PORT} is replaced); <paramref name="tls"/> = (cert, key) PEM paths listens with TLS.
    /// </summary>
    public static async Task<ReverseProxy> StartNginxAsync(string serverBody, (string Cert, string Key)? tls = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var dir = Directory.CreateTempSubdirectory("video-edge-nginx-");
            var port = FreePort();
            var ssl = tls is { } t ? $" ssl;\n        ssl_certificate {t.Cert};\n        ssl_certificate_key {t.Key}" : "";
            // Running as root, nginx would hand its workers to "nobody", who cannot use our temp folder.
            var user = Environment.UserName == "root" ? "user root;\n" : "";
            var config = $$"""
                {{user}}daemon off;
                worker_processes 1;
                pid {{dir.FullName}}/nginx.pid;
                error_log {{dir.FullName}}/error.log warn;
                events { worker_connections 512; }
                http {
                    access_log off;
                    client_body_temp_path {{dir.FullName}}/client_body;
                    proxy_temp_path {{dir.FullName}}/proxy;
                    fastcgi_temp_path {{dir.FullName}}/fastcgi;
                    uwsgi_temp_path {{dir.FullName}}/uwsgi;
                    scgi_temp_path {{dir.FullName}}/scgi;
                    server {
                        listen 127.0.0.1:{{port}}{{ssl}};
                        server_name _;
                {{serverBody.Replace("{PORT}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)}}
                    }
                }
                """;
            var conf = Path.Combine(dir.FullName, "nginx.conf");
            await File.WriteAllTextAsync(conf, config);
            var proxy = Start("nginx", ["-p", dir.FullName + "/", "-c", conf, "-e", Path.Combine(dir.FullName, "error.log")], dir, port, environment: null);
            if (await proxy.WaitUntilListeningAsync() is null)
            {
                return proxy;
            }
            var log = proxy.Log;
            await proxy.DisposeAsync();
            // Another test may have taken the free port between our probe and nginx's bind.
            if (attempt == 3 || !log.Contains("Address already in use", StringComparison.Ordinal))
            {
                Assert.Fail("nginx did not start:\n" + config + "\n" + log);
            }
        }
    }

    /// <summary>Caddy serving <paramref name="siteBlock"/> ({PORT} is replaced), with its admin API and automatic HTTPS off.</summary>
    public static async Task<ReverseProxy> StartCaddyAsync(string siteBlock)
    {
        for (var attempt = 1; ; attempt++)
        {
            var dir = Directory.CreateTempSubdirectory("video-edge-caddy-");
            var port = FreePort();
            var config = $$"""
                {
                    admin off
                    auto_https off
                    storage file_system {{dir.FullName}}/data
                }
                {{siteBlock.Replace("{PORT}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)}}
                """;
            var file = Path.Combine(dir.FullName, "Caddyfile");
            await File.WriteAllTextAsync(file, config);
            var environment = new Dictionary<string, string>
            {
                ["HOME"] = dir.FullName,
                ["XDG_DATA_HOME"] = Path.Combine(dir.FullName, "data"),
                ["XDG_CONFIG_HOME"] = Path.Combine(dir.FullName, "config"),
            };
            var proxy = Start("caddy", ["run", "--config", file, "--adapter", "caddyfile"], dir, port, environment);
            if (await proxy.WaitUntilListeningAsync() is null)
            {
                return proxy;
            }
            var log = proxy.Log;
            await proxy.DisposeAsync();
            if (attempt == 3 || !log.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Fail("caddy did not start:\n" + config + "\n" + log);
            }
        }
    }

    /// <summary>The fenced block of <paramref name="language"/> under the README heading "Behind a reverse proxy": the snippet users copy.</summary>
    public static string ReadmeSnippet(string language)
    {
        var readme = File.ReadAllText(Path.Combine(PublishedBuild.RepositoryRoot, "README.md"));
        var section = readme[readme.IndexOf("## Behind a reverse proxy", StringComparison.Ordinal)..];
        var match = Regex.Match(section, "```" + language + "\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, $"README has no ```{language} block under 'Behind a reverse proxy'");
        return match.Groups[1].Value;
    }

    private static ReverseProxy Start(string program, string[] args, DirectoryInfo dir, int port, IDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info };
        var proxy = new ReverseProxy(process, dir, port);
        process.OutputDataReceived += (_, e) => proxy.Append(e.Data);
        process.ErrorDataReceived += (_, e) => proxy.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return proxy;
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

    /// <summary>Null once the port accepts connections; the reason when the process ended first or took too long.</summary>
    private async Task<string?> WaitUntilListeningAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                return "exited with " + _process.ExitCode;
            }
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return null;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        return "not listening after 30 s";
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
        }
        _process.Dispose();
        try
        {
            _dir.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
