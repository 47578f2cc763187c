using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace VideoEdge.Tests.Infrastructure;

/// <summary>
/// The app as a separate process (`dotnet video-edge.dll`, or any executable such as the AOT binary),
/// for what needs a process of its own: LD_PRELOAD of the fake camera, exit codes, signals.
/// </summary>
public sealed partial class ProcessServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ProcessServer(Process process) => _process = process;

    public string BaseUrl => _url.Task.Result;
    public Process Process => _process;

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

    /// <summary>The app built beside the tests (a project reference copies it into our output folder).</summary>
    public static string AppDll => Path.Combine(AppContext.BaseDirectory, "video-edge.dll");

    /// <summary>Starts the app with <paramref name="args"/> (plus --listen 127.0.0.1:0) and waits until it serves.</summary>
    public static Task<ProcessServer> StartAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? executable = null) =>
        StartCoreAsync(args, environment, executable, waitForUrl: true);

    /// <summary>Starts the app with exactly <paramref name="args"/> and returns at once (for commands that serve nothing, such as push).</summary>
    public static Task<ProcessServer> LaunchAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? executable = null) =>
        StartCoreAsync(args, environment, executable, waitForUrl: false);

    /// <summary>Runs the app to completion (for --help, bad flags, --list-devices): exit code and all output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null, string? executable = null, TimeSpan? timeout = null)
    {
        await using var server = await StartCoreAsync(args, environment, executable, waitForUrl: false);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await server._process.WaitForExitAsync(cts.Token);
        server._process.WaitForExit();
        return (server._process.ExitCode, server.Output);
    }

    private static async Task<ProcessServer> StartCoreAsync(IEnumerable<string> args, IDictionary<string, string>? environment, string? executable, bool waitForUrl)
    {
        var all = args.ToList();
        if (waitForUrl && !all.Contains("--listen"))
        {
            all.AddRange(["--listen", "127.0.0.1:0"]);
        }
        var info = new ProcessStartInfo(executable ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (executable is null)
        {
            info.ArgumentList.Add(AppDll);
        }
        foreach (var a in all)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["DOTNET_gcServer"] = "0";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }
        var server = new ProcessServer(new Process { StartInfo = info, EnableRaisingEvents = true });
        server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.Exited += (_, _) => server._url.TrySetException(new InvalidOperationException("the server exited before serving:\n" + server.Output));
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        if (waitForUrl)
        {
            try
            {
                await server._url.Task.WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                await server.DisposeAsync();
                throw new TimeoutException("the server did not report its URL in 60 s:\n" + server.Output);
            }
        }
        return server;
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
        if (ServingLine().Match(line) is { Success: true } m)
        {
            _url.TrySetResult(m.Groups[1].Value);
        }
    }

    /// <summary>Sends SIGTERM (what systemd and Ctrl+C-like stops send) and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
        }
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await TerminateAsync(TimeSpan.FromSeconds(5));
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"Serving on ((?:http://|unix:)[^\s]+?)[ ,]")]
    private static partial Regex ServingLine();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
