using System.Net.Sockets;
using VideoEdge.Tests.Fakes;
using VideoEdge.Tests.Infrastructure;

namespace VideoEdge.Tests.Deployment;

/// <summary>
/// `--listen unix:PATH` when something is already at PATH: a socket left by a process that was
/// killed is replaced; a socket someone still listens on, or a file that is not a socket, is not
/// touched, and the start fails with exit code 2 and a reason.
/// </summary>
public sealed class UnixSocketListenerTests : IDisposable
{
    private readonly string _dir = FakeCamera.NewTempDirectory("videoedge-uds");

    private string SocketPath => Path.Combine(_dir, "edge.sock");

    [Fact]
    public async Task A_socket_left_by_a_killed_process_is_replaced()
    {
        await using (var killed = await ProcessServer.StartAsync(["--source", "test", "--listen", "unix:" + SocketPath]))
        {
            killed.Process.Kill();
            await killed.Process.WaitForExitAsync();
        }
        Assert.True(File.Exists(SocketPath), "SIGKILL should leave the socket file behind");

        await using var server = await ProcessServer.StartAsync(["--source", "test", "--listen", "unix:" + SocketPath]);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
        await client.SendAsync("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"u8.ToArray());
        var buffer = new byte[64];
        var n = await client.ReceiveAsync(buffer);
        Assert.StartsWith("HTTP/1.1 200", System.Text.Encoding.ASCII.GetString(buffer, 0, n));
    }

    [Fact]
    public async Task The_start_line_says_how_to_reach_the_socket_and_its_curl_command_works()
    {
        await using var server = await ProcessServer.StartAsync(["--source", "test", "--fps", "5", "--listen", "unix:" + SocketPath]);
        var line = server.Output.Split('\n').Single(l => l.Contains("Serving on", StringComparison.Ordinal));
        Assert.Contains($"Serving on unix:{SocketPath}, a Unix socket for a reverse proxy", line);
        // Not "open http://unix:/… in a browser": no browser can.
        Assert.DoesNotContain("browser", line);
        Assert.DoesNotContain($"http://unix:{SocketPath}/", line);

        // The command the line suggests, run as a user would.
        var curl = line[(line.IndexOf("curl ", StringComparison.Ordinal) + 5)..].Trim().Split(' ');
        var snapshot = Path.Combine(_dir, "snap.jpg");
        curl[Array.IndexOf(curl, "-o") + 1] = snapshot;
        var result = await Command.RunAsync("curl", ["--fail", "--silent", "--show-error", "--max-time", "30", .. curl]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(Jpeg.HasMarkers(await File.ReadAllBytesAsync(snapshot)), "curl did not save a JPEG");
    }

    [Fact]
    public async Task A_socket_in_use_is_left_alone()
    {
        using var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(SocketPath));
        live.Listen();

        var (exitCode, output) = await ProcessServer.RunAsync(["--source", "test", "--listen", "unix:" + SocketPath]);
        Assert.Equal(2, exitCode);
        Assert.Contains("cannot listen there", output);
        using var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await client.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
    }

    [Fact]
    public async Task A_file_that_is_not_a_socket_is_never_deleted()
    {
        await File.WriteAllTextAsync(SocketPath, "not a socket");

        var (exitCode, output) = await ProcessServer.RunAsync(["--source", "test", "--listen", "unix:" + SocketPath]);
        Assert.Equal(2, exitCode);
        Assert.Contains("cannot listen there", output);
        Assert.Equal("not a socket", await File.ReadAllTextAsync(SocketPath));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
