using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using VideoEdge.Security;

using VideoEdge.Interop;

namespace VideoEdge.Hosting;

/// <summary>
/// Keeps accept() from ever failing for want of a file descriptor. At EMFILE the socket transport
/// retries the accept at once, forever: one thread spun at 100 % CPU for 17 s with 1,100 idle
/// connections under `ulimit -n 1024`, snapshots timed out and nothing was logged. So the soft
/// limit is raised to the hard one at start (as nginx does), and connections beyond the limit less
/// a reserve (the runtime's own files, cameras, ffmpeg pipes) are closed as soon as accepted, with
/// one log line a minute saying why.
/// </summary>
public sealed partial class ConnectionCap(int limit, long softLimit, int reserve)
{
    /// <summary>Descriptors kept for everything but connections, beyond those open at start.</summary>
    private const int BaseReserve = 128;
    private const int ReservePerCamera = 16;

    private readonly LogBudget _log = new(TimeSpan.FromMinutes(1));
    private int _open;

    /// <summary>Connections served at once; the next is closed on accept.</summary>
    public int Limit => limit;

    /// <summary>Raises this process's soft RLIMIT_NOFILE to its hard limit; returns the soft limit in force.</summary>
    public static long RaiseFileLimit()
    {
        if (!OperatingSystem.IsLinux() || Libc.GetRLimit(Libc.RLIMIT_NOFILE, out var current) != 0)
        {
            return -1;
        }
        if (current.Soft < current.Hard && Libc.SetRLimit(Libc.RLIMIT_NOFILE, new Libc.RLimit { Soft = current.Hard, Hard = current.Hard }) == 0)
        {
            return (long)Math.Min(current.Hard, int.MaxValue);
        }
        return (long)Math.Min(current.Soft, int.MaxValue);
    }

    /// <summary>The cap for this process's current soft limit, or null where there is no limit to respect.</summary>
    public static ConnectionCap? ForThisProcess(int cameras)
    {
        if (!OperatingSystem.IsLinux() || Libc.GetRLimit(Libc.RLIMIT_NOFILE, out var current) != 0 || current.Soft >= int.MaxValue)
        {
            return null;
        }
        var soft = (long)current.Soft;
        int inUse;
        try
        {
            inUse = Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            inUse = 64;
        }
        var reserve = inUse + BaseReserve + ReservePerCamera * cameras;
        return new ConnectionCap((int)Math.Max(16, soft - reserve), soft, reserve);
    }

    /// <summary>Connection middleware: counts open connections and closes those past the cap at once.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware(Func<ILogger> logger) => next => async connection =>
    {
        if (Interlocked.Increment(ref _open) > limit)
        {
            Interlocked.Decrement(ref _open);
            if (_log.TryTake(out var leftOut))
            {
                LogRefused(logger(), limit, softLimit, reserve, leftOut);
            }
            connection.Abort(new ConnectionAbortedException("connection cap reached"));
            return;
        }
        try
        {
            await next(connection);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closed a new connection at once: {Limit} connections are open, the most the file limit ({Soft}, less {Reserve} kept for the program and its cameras) allows; raise LimitNOFILE= / ulimit -n ({LeftOut} more closed since the last line)")]
    private static partial void LogRefused(ILogger logger, int limit, long soft, int reserve, long leftOut);

    [LoggerMessage(Level = LogLevel.Warning, Message = "--max-clients {MaxClients} is more than the file limit allows: at most {Limit} connections (limit {Soft}, less {Reserve} kept for the program and its cameras); raise LimitNOFILE= / ulimit -n")]
    public static partial void LogMaxClientsOverCap(ILogger logger, int maxClients, int limit, long soft, int reserve);

    public long SoftLimit => softLimit;
    public int Reserve => reserve;

}
