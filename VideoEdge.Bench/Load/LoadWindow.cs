namespace VideoEdge.Bench.Load;

/// <summary>
/// The measurement window shared by every loop thread: its bounds (CLOCK_REALTIME ns, like the fake
/// camera's stamps) and, per loop thread, the latency samples taken inside it.
/// </summary>
internal sealed class LoadWindow
{
    private long _startNs = long.MaxValue;
    private long _endNs = long.MaxValue;
    private long _minSequence = long.MaxValue;
    private long _maxSequence = -1;
    private readonly Lock _lock = new();
    private readonly List<long> _slowStart = [];
    private readonly List<long> _slowEnd = [];

    [ThreadStatic] private static List<long>? t_latencies;
    private readonly List<List<long>> _allLatencies = [];

    public static long NowNs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    public long StartNs => Volatile.Read(ref _startNs);
    public long EndNs => Volatile.Read(ref _endNs);

    public void Open(long startNs) => Volatile.Write(ref _startNs, startNs);
    public void Close(long endNs) => Volatile.Write(ref _endNs, endNs);

    public bool Contains(long ns) => ns >= StartNs && ns < EndNs;

    /// <summary>Called by each loop thread before it starts, so recording needs no lock.</summary>
    public void RegisterThread(int expectedSamples)
    {
        t_latencies = new List<long>(expectedSamples);
        lock (_lock)
        {
            _allLatencies.Add(t_latencies);
        }
    }

    public void RecordLatency(long ns) => t_latencies!.Add(ns);

    public void RecordSlow(long startAgeNs, long endAgeNs)
    {
        lock (_lock)
        {
            _slowStart.Add(startAgeNs);
            _slowEnd.Add(endAgeNs);
        }
    }

    public void SeeCapturedSequence(long sequence)
    {
        lock (_lock)
        {
            _minSequence = Math.Min(_minSequence, sequence);
            _maxSequence = Math.Max(_maxSequence, sequence);
        }
    }

    /// <summary>Camera frames captured inside the window, as seen by any viewer.</summary>
    public long CapturedFrames => _maxSequence < 0 ? 0 : _maxSequence - _minSequence + 1;

    public long[] Latencies()
    {
        lock (_lock)
        {
            var all = _allLatencies.SelectMany(l => l).ToArray();
            Array.Sort(all);
            return all;
        }
    }

    public (long[] Start, long[] End) SlowAges()
    {
        lock (_lock)
        {
            long[] s = [.. _slowStart], e = [.. _slowEnd];
            Array.Sort(s);
            Array.Sort(e);
            return (s, e);
        }
    }
}
