using System.Net.Sockets;
using System.Runtime.Versioning;
using VideoEdge.Interop;

namespace VideoEdge.Hosting;

/// <summary>
/// The file behind a `--listen unix:/path` listener. Before Kestrel binds, a socket file left by a
/// process that died is removed (a live one is left alone, so binding fails with a clear message).
/// Once bound, it is made connectable by every local user, as a loopback port would be, so a
/// reverse proxy running as another user can reach it; its directory decides who really may.
/// </summary>
public sealed class UnixSocketFile(string path) : IHostedLifecycleService
{
    private const UnixFileMode Connectable = UnixFileMode.UserRead | UnixFileMode.UserWrite
        | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (IsSocket(path) && !IsListening(path))
        {
            File.Delete(path);
        }
        return Task.CompletedTask;
    }

    [UnsupportedOSPlatform("windows")]
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        File.SetUnixFileMode(path, Connectable);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static bool IsListening(string path)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// True only for a socket, so a regular file given by mistake is never deleted.
    /// </summary>
    private static unsafe bool IsSocket(string path)
    {
        Libc.StatxResult result;
        return Libc.Statx(Libc.AT_FDCWD, path, Libc.AT_SYMLINK_NOFOLLOW, Libc.STATX_TYPE, &result) == 0
            && (result.Mode & Libc.S_IFMT) == Libc.S_IFSOCK;
    }
}
