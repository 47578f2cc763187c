using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace VideoEdge.Hosting;

/// <summary>
/// The file behind a `--listen unix:/path` listener. Before Kestrel binds, a socket file left by a
/// process that died is removed (a live one is left alone, so binding fails with a clear message).
/// Once bound, it is made connectable by every local user, as a loopback port would be, so a
/// reverse proxy running as another user can reach it; its directory decides who really may.
/// </summary>
public sealed partial class UnixSocketFile(string path) : IHostedLifecycleService
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
    /// True only for a socket, so a regular file given by mistake is never deleted. statx is used
    /// because, unlike struct stat, its layout is the same on every architecture.
    /// </summary>
    private static unsafe bool IsSocket(string path)
    {
        const uint StatxType = 0x0001;
        const int AtSymlinkNoFollow = 0x100;
        const int AtFdCwd = -100;
        const int ModeOffset = 28;
        const int FileTypeMask = 0xF000;
        const int Socket = 0xC000;
        var buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            return false;
        }
        return (*(ushort*)(buffer + ModeOffset) & FileTypeMask) == Socket;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* statxBuffer);
}
