using System.Net.Sockets;
using System.Runtime.Versioning;
using System.Text;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Deployment;

/// <summary>
/// The published binary under systemd's notify protocol, as Type=notify with WatchdogSec= starts
/// it: NOTIFY_SOCKET names a datagram socket (here ours), WATCHDOG_USEC the watchdog timeout. It
/// listens on a unix socket, as it would behind a reverse proxy.
/// </summary>
[Collection(DeploymentCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class SystemdNotifyTests(PublishedBuilds builds) : IDisposable
{
    private readonly string _dir = FakeCamera.NewTempDirectory("videoedge-notify");

    [Fact]
    public async Task Says_READY_once_serving_then_STATUS_and_WATCHDOG_and_STOPPING_on_SIGTERM()
    {
        var build = await builds.GetAsync("linux-x64");
        var listenSocket = Path.Combine(_dir, "edge.sock");
        using var notify = new NotifyListener(Path.Combine(_dir, "notify.sock"));

        // What a proxy would get the moment READY=1 arrives: proof the listener was bound and the camera open before it.
        async Task<string> StateWhenReady()
        {
            await notify.WhenReceived("READY=1");
            using var http = UnixSocketHttp(listenSocket);
            return await http.GetStringAsync("http://localhost/api/state");
        }
        var atReady = StateWhenReady();

        await using var server = await ProcessServer.StartAsync(
            ["--source", "test", "--listen", "unix:" + listenSocket],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notify.Path, ["WATCHDOG_USEC"] = "1000000" },
            build.Binary);

        var state = await atReady.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("\"online\":true", state);

        // A reverse proxy runs as another user: the socket must let it connect.
        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite,
            File.GetUnixFileMode(listenSocket));
        using (var http = UnixSocketHttp(listenSocket))
        {
            var jpeg = await http.GetByteArrayAsync("http://localhost/snapshot.jpg");
            Assert.True(Jpeg.HasMarkers(jpeg));
        }

        // Pinged every half timeout while the test pattern runs; the status names source, size, rate and viewers.
        var status = await notify.WhenReceived("STATUS=main: test pattern 640x480 at ").WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Matches(@"^STATUS=main: test pattern 640x480 at \d+\.\d fps, 0 viewers$", status);
        await notify.WhenCount("WATCHDOG=1", 4).WaitAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(0, await server.TerminateAsync(TimeSpan.FromSeconds(10)));
        await notify.WhenReceived("STOPPING=1").WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(File.Exists(listenSocket), "the unix socket was left behind");
        // Journal priorities instead of terminal timestamps, so journalctl -p warning works.
        Assert.StartsWith("<6>", server.Output.Split('\n')[0]);
    }

    private static HttpClient UnixSocketHttp(string path) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (_, cancellation) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellation);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    {
        Timeout = TimeSpan.FromSeconds(10),
    };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Plays systemd's side of sd_notify: a datagram socket collecting every message.</summary>
    internal sealed class NotifyListener : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        private readonly List<string> _messages = [];
        private readonly List<(Func<List<string>, string?> Match, TaskCompletionSource<string> Done)> _waits = [];
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _receiving;

        public NotifyListener(string path)
        {
            Path = path;
            _socket.Bind(new UnixDomainSocketEndPoint(path));
            _receiving = ReceiveAsync();
        }

        public string Path { get; }

        /// <summary>The first message starting with <paramref name="prefix"/>, whenever it arrived.</summary>
        public Task<string> WhenReceived(string prefix) => When(messages => messages.FirstOrDefault(m => m.StartsWith(prefix, StringComparison.Ordinal)));

        public Task<string> WhenCount(string message, int count) => When(messages => messages.Count(m => m == message) >= count ? message : null);

        private Task<string> When(Func<List<string>, string?> match)
        {
            var done = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_messages)
            {
                if (match(_messages) is { } found)
                {
                    done.SetResult(found);
                }
                else
                {
                    _waits.Add((match, done));
                }
            }
            return done.Task;
        }

        private async Task ReceiveAsync()
        {
            var buffer = new byte[4096];
            while (!_stop.IsCancellationRequested)
            {
                int n;
                try
                {
                    n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                // One datagram may carry several newline-separated assignments.
                foreach (var message in Encoding.UTF8.GetString(buffer, 0, n).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    lock (_messages)
                    {
                        _messages.Add(message);
                        foreach (var wait in _waits.ToList())
                        {
                            if (wait.Match(_messages) is { } found)
                            {
                                wait.Done.SetResult(found);
                                _waits.Remove(wait);
                            }
                        }
                    }
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _receiving.Wait(TimeSpan.FromSeconds(5));
            _socket.Dispose();
            _stop.Dispose();
        }
    }
}
