using System.Globalization;

namespace VideoEdge.Bench.Harness;

/// <summary>A process's memory (and, through the static helpers, its CPU time), read from /proc.</summary>
internal readonly record struct ProcSample(long RssBytes, long PeakRssBytes)
{
    private static readonly double s_ticksPerSecond = 100; // USER_HZ on every Linux we run on

    public static ProcSample Read(int pid)
    {
        return new ProcSample(Status(pid, "VmRSS:"), Status(pid, "VmHWM:"));
    }

    /// <summary>
    /// utime+stime of the whole process from /proc/PID/stat (10 ms ticks). When every thread is still
    /// alive the per-thread schedstat run times say the same in nanoseconds, so prefer those.
    /// </summary>
    public static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based), i.e. index 11 and 12 here.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / s_ticksPerSecond;
    }

    /// <summary>Nanoseconds on CPU per live thread (from /proc/PID/task/TID/schedstat).</summary>
    public static Dictionary<int, long> ThreadRunTimes(int pid)
    {
        var result = new Dictionary<int, long>();
        foreach (var dir in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var text = File.ReadAllText(Path.Combine(dir, "schedstat"));
                var ns = long.Parse(text.AsSpan(0, text.IndexOf(' ')), CultureInfo.InvariantCulture);
                result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = ns;
            }
            catch (IOException)
            {
            }
        }
        return result;
    }

    private static long Status(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var parts = line[key.Length..].Trim().Split(' ');
                return long.Parse(parts[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        return 0;
    }

    /// <summary>Resets VmHWM so the next peak is that of the window alone.</summary>
    public static void ResetPeak(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>CPU used by a process between two moments, as precisely as /proc allows.</summary>
internal sealed class CpuMeter
{
    private readonly int _pid;
    private readonly double _statStart;
    private readonly Dictionary<int, long> _threadsStart;

    public CpuMeter(int pid)
    {
        _pid = pid;
        _threadsStart = ProcSample.ThreadRunTimes(pid);
        _statStart = ProcSample.CpuSeconds(pid);
    }

    public double Elapsed()
    {
        var threadsEnd = ProcSample.ThreadRunTimes(_pid);
        var statEnd = ProcSample.CpuSeconds(_pid);
        // A thread that ended inside the window took its schedstat with it: fall back to the ticks.
        if (_threadsStart.Keys.All(threadsEnd.ContainsKey))
        {
            long ns = 0;
            foreach (var (tid, end) in threadsEnd)
            {
                ns += end - _threadsStart.GetValueOrDefault(tid);
            }
            return ns / 1e9;
        }
        return statEnd - _statStart;
    }
}
