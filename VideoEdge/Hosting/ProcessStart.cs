using System.Diagnostics;

namespace VideoEdge.Hosting;

/// <summary>
/// When this process started, as the kernel recorded it: counting from the first request that
/// happened to touch a static field would make uptime start at that request.
/// </summary>
public static class ProcessStart
{
    public static DateTime Utc { get; } = Read();

    public static double UnixSeconds => (Utc - DateTime.UnixEpoch).TotalSeconds;

    public static TimeSpan Uptime => DateTime.UtcNow - Utc;

    private static DateTime Read()
    {
        using var process = Process.GetCurrentProcess();
        return process.StartTime.ToUniversalTime();
    }
}
